//! Crossing a process boundary: how a module's typed values travel when its API is called over
//! the network. A validated value travels as its plain form and is checked again on arrival, so a
//! value that exists is valid in every process ([`plain_value!`]).

#[doc(hidden)]
pub use serde as __serde;
#[doc(hidden)]
pub use serde_json as __serde_json;

/// Serializes a validated value as its plain form and deserializes it through its parser, so
/// that what arrives from another process is checked exactly as what arrived at the edge:
///
/// ```
/// # use kernel::plain_value;
/// pub struct Seats(i64);
/// impl Seats {
///     pub fn new(n: i64) -> Result<Seats, String> {
///         if n > 0 { Ok(Seats(n)) } else { Err("must be positive".into()) }
///     }
/// }
/// plain_value!(Seats, i64, parse: Seats::new, plain: |s: &Seats| s.0);
/// assert!(serde_json::from_str::<Seats>("0").is_err());
/// assert_eq!(serde_json::to_string(&serde_json::from_str::<Seats>("3").unwrap()).unwrap(), "3");
/// ```
#[macro_export]
macro_rules! plain_value {
    ($ty:ty, $plain:ty, parse: $parse:expr, plain: $to_plain:expr) => {
        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                let plain: $plain = ($to_plain)(self);
                $crate::__serde::Serialize::serialize(&plain, serializer)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let plain = <$plain as $crate::__serde::Deserialize>::deserialize(deserializer)?;
                ($parse)(plain).map_err(<D::Error as $crate::__serde::de::Error>::custom)
            }
        }
    };
}

/// Deserializes an optional whole number the way JSON Schema counts one: `3`, and also `3.0` or
/// `3e0` (a number with no fractional part), but not `3.5`, `"3"` or a number beyond `i64`. For
/// request fields documented as `integer`: `#[serde(default, deserialize_with =
/// "kernel::whole_number")]`.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Body {
///     #[serde(default, deserialize_with = "kernel::whole_number")]
///     n: Option<i64>,
/// }
/// let n = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.n);
/// assert_eq!(n(r#"{"n": 3}"#).unwrap(), Some(3));
/// assert_eq!(n(r#"{"n": 3.0}"#).unwrap(), Some(3));
/// assert_eq!(n(r#"{"n": 1e3}"#).unwrap(), Some(1000));
/// assert_eq!(n(r#"{"n": null}"#).unwrap(), None);
/// assert_eq!(n("{}").unwrap(), None);
/// assert!(n(r#"{"n": 3.5}"#).is_err());
/// assert!(n(r#"{"n": "3"}"#).is_err());
/// assert!(n(r#"{"n": 1e300}"#).is_err());
/// assert!(n(r#"{"n": 18446744073709551615}"#).is_err());
/// ```
pub fn whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    struct Whole;

    impl<'de> serde::de::Visitor<'de> for Whole {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n))
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
            i64::try_from(n)
                .map(Some)
                .map_err(|_| E::custom("is too large"))
        }

        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
            // Every whole f64 in this range converts exactly.
            const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
            if n.fract() != 0.0 || !n.is_finite() {
                Err(E::custom("must be a whole number"))
            } else if n.abs() > LIMIT {
                Err(E::custom("is too large"))
            } else {
                #[allow(clippy::cast_possible_truncation)]
                Ok(Some(n as i64))
            }
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Whole)
        }
    }

    deserializer.deserialize_option(Whole)
}
