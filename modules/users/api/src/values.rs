//! Validated user values: once parsed, an email, a name or a password is known to be acceptable.
//! They are the fields of the module's typed commands, built once at the edge.

/// A syntactically plausible email address, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);
kernel::plain_value!(Email, String, parse: |s: String| Email::parse(&s), plain: |e: &Email| e.0.clone());

impl Email {
    /// The longest address accepted.
    pub const MAX_LEN: usize = 254;

    /// The address, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("must be an email address like name@example.com".into());
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err("must be an email address like name@example.com".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err("must have a domain like example.com after the @".into());
        }
        Ok(Email(s.to_owned()))
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as shown on bookings: 1 to 100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName(String);
kernel::plain_value!(FullName, String, parse: |s: String| FullName::parse(&s), plain: |n: &FullName| n.0.clone());

impl FullName {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 100;

    /// The name (spaces folded), or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<FullName, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(FullName(s.split_whitespace().collect::<Vec<_>>().join(" ")))
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password good enough to accept: 8 to 128 characters, not only spaces. It crosses a process
/// boundary in clear only to reach the users module, which hashes it.
pub struct Password(String);
kernel::plain_value!(Password, String, parse: |s: String| Password::parse(&s), plain: |p: &Password| p.0.clone());

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// The shortest password accepted.
    pub const MIN_LEN: usize = 8;
    /// The longest password accepted.
    pub const MAX_LEN: usize = 128;

    /// The password, or why `raw` is not acceptable.
    pub fn parse(raw: &str) -> Result<Password, String> {
        let n = raw.chars().count();
        if n == 0 {
            return Err("is required".into());
        }
        if n < Self::MIN_LEN {
            return Err(format!("must be at least {} characters", Self::MIN_LEN));
        }
        if n > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if raw.trim().is_empty() {
            return Err("must not be only spaces".into());
        }
        Ok(Password(raw.to_owned()))
    }

    /// The password in clear, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_email_is_accepted_and_trimmed() {
        assert_eq!(
            Email::parse("  Ada@Example.com ").unwrap().as_str(),
            "Ada@Example.com"
        );
    }

    #[test]
    fn malformed_emails_are_rejected_with_a_reason() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@.com",
            "ada@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        assert!(Email::parse(&long).unwrap_err().contains("at most"));
    }

    #[test]
    fn a_name_is_trimmed_and_its_inner_spaces_collapsed() {
        assert_eq!(
            FullName::parse("  Ada   Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
    }

    #[test]
    fn an_empty_or_overlong_name_is_rejected() {
        assert_eq!(FullName::parse("   ").unwrap_err(), "is required");
        assert!(
            FullName::parse(&"x".repeat(101))
                .unwrap_err()
                .contains("at most 100")
        );
        assert!(FullName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn short_long_and_blank_passwords_are_rejected() {
        assert!(Password::parse("short").unwrap_err().contains("at least 8"));
        assert!(
            Password::parse(&"x".repeat(129))
                .unwrap_err()
                .contains("at most 128")
        );
        assert!(
            Password::parse("          ")
                .unwrap_err()
                .contains("only spaces")
        );
        assert!(Password::parse("correct horse").is_ok());
    }
}
