//! Crossing a process boundary: how a module's typed values travel when its API is called over
//! the network. A validated value travels as its plain form and is checked again on arrival, so a
//! value that exists is valid in every process ([`plain_value!`]).

#[doc(hidden)]
pub use serde as __serde;

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
