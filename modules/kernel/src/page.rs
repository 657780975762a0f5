//! Keyset paging, written once: a list ordered by (time, id) continues after the last item of the
//! previous page, so a page costs the same at row ten and at row ten million.

use std::fmt;

use uuid::Uuid;

use crate::time::Timestamp;

/// Where the previous page ended: the time and id of its last item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

    /// Parses the text form lists hand out as `next_cursor`.
    pub fn parse(text: &str) -> Result<Cursor, String> {
        text.trim()
            .split_once('_')
            .and_then(|(t, id)| {
                Some(Cursor {
                    at: Timestamp::from_micros(t.parse().ok()?),
                    id: Uuid::parse_str(id).ok()?,
                })
            })
            .ok_or_else(|| "is not a cursor returned by this list".to_owned())
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

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.at.as_micros(), self.id.simple())
    }
}

/// How many items one page of a list holds: 1 to [`PageSize::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(u32);

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
            Some("2_00000000000000000000000000000000")
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
