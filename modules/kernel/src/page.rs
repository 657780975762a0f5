//! Keyset paging, written once: a list ordered by (time, id) continues after the last item of the
//! previous page, so a page costs the same at row ten and at row ten million.

use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::{time::Timestamp, validation::FieldErrors};

/// Where the previous page ended: the time and id of its last item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The ordering time of the last item.
    pub at: Timestamp,
    /// Its id, which breaks ties between items of the same time.
    pub id: Uuid,
}

impl Cursor {
    /// The cursor just past an item.
    pub fn new(at: Timestamp, id: Uuid) -> Cursor {
        Cursor { at, id }
    }

    /// The shape of a cursor's text, as the OpenAPI document states it: the microseconds of
    /// the last item's time, `_`, its id in hyphenated form. [`Cursor::parse`] accepts exactly
    /// this, so a client (or a fuzzer) can tell a well-formed cursor from the schema alone.
    pub const PATTERN: &'static str =
        "^[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

    /// Parses the text form lists hand out as `next_cursor` (see [`Cursor::PATTERN`]).
    pub fn parse(text: &str) -> Result<Cursor, String> {
        let refused = || "is not a cursor returned by this list".to_owned();
        let (micros, id) = text.split_once('_').ok_or_else(refused)?;
        let digits = (1..=16).contains(&micros.len()) && micros.bytes().all(|b| b.is_ascii_digit());
        let hyphenated = id.len() == 36
            && id.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if !digits || !hyphenated {
            return Err(refused());
        }
        Ok(Cursor {
            at: Timestamp::from_micros(micros.parse().map_err(|_| refused())?),
            id: Uuid::parse_str(id).map_err(|_| refused())?,
        })
    }

    /// The `next_cursor` of a page: the cursor after its last item when the page is full (there
    /// may be more), none when it is not (this was the last page).
    pub fn after_page<T>(
        items: &[T],
        size: PageSize,
        key: impl Fn(&T) -> (Timestamp, Uuid),
    ) -> Option<String> {
        if items.len() < size.get() as usize {
            return None;
        }
        items.last().map(|item| {
            let (at, id) = key(item);
            Cursor::new(at, id).to_string()
        })
    }
}

/// Which way a keyset list runs over its `(time, id)` columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Oldest (or soonest) first.
    Ascending,
    /// Newest first.
    Descending,
}

impl Cursor {
    /// Ends a query (whose `WHERE` clause is already written) with one page of a keyset list:
    /// the rows after `after` in `order` of the `(time, id)` columns, sorted, at most `size` of
    /// them. An index ending in those two columns makes every page cost the same.
    pub fn push_page(
        sql: &mut QueryBuilder<Sqlite>,
        (time, id): (&str, &str),
        order: Order,
        after: Option<Cursor>,
        size: PageSize,
    ) {
        let (beyond, direction) = match order {
            Order::Ascending => (">", "ASC"),
            Order::Descending => ("<", "DESC"),
        };
        if let Some(c) = after {
            sql.push(format_args!(" AND ({time}, {id}) {beyond} ("))
                .push_bind(c.at)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        sql.push(format_args!(
            " ORDER BY {time} {direction}, {id} {direction} LIMIT "
        ))
        .push_bind(i64::from(size.get()));
    }
}

/// One page as a client asked for it: how many, and after which cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// How many items.
    pub limit: PageSize,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    /// The page of a `limit` and a `cursor` as sent (either may be absent, an empty cursor is
    /// none), recording what is wrong with them under those names.
    pub fn parse(
        limit: Option<u32>,
        cursor: Option<&str>,
        errors: &mut FieldErrors,
    ) -> PageRequest {
        let limit = errors.check("limit", PageSize::or_default(limit));
        let cursor = cursor
            .filter(|c| !c.is_empty())
            .and_then(|c| errors.check("cursor", Cursor::parse(c)));
        PageRequest {
            limit: limit.unwrap_or_default(),
            cursor,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.at.as_micros(), self.id.hyphenated())
    }
}

/// How many items one page of a list holds: 1 to [`PageSize::MAX`] (checked again when read
/// from another process).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PageSize(u32);

impl TryFrom<u32> for PageSize {
    type Error = String;

    fn try_from(n: u32) -> Result<Self, String> {
        PageSize::new(n)
    }
}

impl From<PageSize> for u32 {
    fn from(size: PageSize) -> u32 {
        size.0
    }
}

impl PageSize {
    /// The largest page.
    pub const MAX: u32 = 200;
    /// What a list gives when not asked.
    pub const DEFAULT: PageSize = PageSize(50);

    /// A page size, or why `n` is not one.
    pub fn new(n: u32) -> Result<PageSize, String> {
        if (1..=Self::MAX).contains(&n) {
            Ok(PageSize(n))
        } else {
            Err(format!("must be between 1 and {}", Self::MAX))
        }
    }

    /// `n` items, or as near as a page allows (for callers that pick their own size).
    pub const fn clamped(n: u32) -> PageSize {
        PageSize(if n == 0 {
            1
        } else if n > Self::MAX {
            Self::MAX
        } else {
            n
        })
    }

    /// [`PageSize::new`] for an optional parameter, [`PageSize::DEFAULT`] when absent.
    pub fn or_default(n: Option<u32>) -> Result<PageSize, String> {
        n.map_or(Ok(Self::DEFAULT), Self::new)
    }

    /// The number of items.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_text_form_and_garbage_is_refused() {
        let c = Cursor::new(
            Timestamp::from_micros(1_700_000_000_000_000),
            Uuid::now_v7(),
        );
        assert_eq!(Cursor::parse(&c.to_string()), Ok(c));
        for bad in [
            "",
            "zzz",
            "12_",
            "_0190",
            "x_0190e0c0-0000-7000-8000-000000000000",
            // Only the documented shape: no sign, no spaces, no other spelling of the id.
            "+12_0190e0c0-0000-7000-8000-000000000000",
            " 12_0190e0c0-0000-7000-8000-000000000000",
            "12_0190e0c0000070008000000000000000",
            "12_{0190e0c0-0000-7000-8000-000000000000}",
            "12345678901234567_0190e0c0-0000-7000-8000-000000000000",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_full_page_has_a_next_cursor() {
        let size = PageSize::new(2).unwrap();
        let key = |n: &i64| (Timestamp::from_micros(*n), Uuid::nil());
        assert_eq!(Cursor::after_page(&[1_i64], size, key), None);
        assert_eq!(
            Cursor::after_page(&[1_i64, 2], size, key).as_deref(),
            Some("2_00000000-0000-0000-0000-000000000000")
        );
    }

    #[test]
    fn a_page_request_names_its_bad_parameters() {
        let mut errors = FieldErrors::new();
        let page = PageRequest::parse(Some(0), Some("zzz"), &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
        assert_eq!(page, PageRequest::default());
        // Empty is absent; a blank is not a cursor (no parser trims what the document forbids).
        let mut errors = FieldErrors::new();
        assert_eq!(
            PageRequest::parse(None, Some(""), &mut errors),
            PageRequest::default()
        );
        assert!(errors.is_empty());
        PageRequest::parse(None, Some(" "), &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cursor"]);
    }

    #[test]
    fn a_page_is_the_rows_beyond_the_cursor_in_order() {
        let mut sql = QueryBuilder::<Sqlite>::new("SELECT * FROM t WHERE 1 = 1");
        let after = Cursor::new(Timestamp::from_micros(5), Uuid::nil());
        Cursor::push_page(
            &mut sql,
            ("created_at", "id"),
            Order::Descending,
            Some(after),
            PageSize::clamped(10),
        );
        assert_eq!(
            sql.sql().as_str(),
            "SELECT * FROM t WHERE 1 = 1 AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?"
        );
    }

    #[test]
    fn page_sizes_outside_one_to_two_hundred_are_refused() {
        assert!(PageSize::new(0).is_err());
        assert!(PageSize::new(201).is_err());
        assert_eq!(PageSize::or_default(None), Ok(PageSize::DEFAULT));
        assert_eq!(PageSize::new(200).map(PageSize::get), Ok(200));
    }
}
