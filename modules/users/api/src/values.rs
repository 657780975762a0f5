//! Validated user values: once parsed, an email, a name or a password is known to be acceptable.
//! They are the fields of the module's typed commands, built once at the edge.

use unicode_normalization::UnicodeNormalization;
use unicode_security::MixedScript;

/// Characters that show nothing, or reorder what follows (zero-width spaces and joiners, bidi
/// controls and overrides, the soft hyphen, variation selectors, tags): never part of an
/// address or a name, where they only serve to make two different strings look the same.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E0FFF}')
}

/// An email address, normalized so that one address has one spelling: trimmed, in Unicode NFC,
/// with its domain in IDNA's ASCII form (`bücher.de` and `xn--bcher-kva.de` are one domain).
/// Invisible characters and bidi controls are refused, and so is a part that mixes alphabets
/// (a Cyrillic `а` among Latin letters), the usual shape of a look-alike address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);
kernel::plain_value!(Email, String, parse: |s: String| Email::parse(&s), plain: |e: &Email| e.0.clone());

impl Email {
    /// The longest address accepted.
    pub const MAX_LEN: usize = 254;

    /// The address, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let s: String = raw.trim().nfc().collect();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if s.chars().any(is_invisible) {
            return Err("must not contain invisible or direction-changing characters".into());
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
        if !local.is_single_script() {
            return Err(
                "must not mix alphabets (like Latin and Cyrillic) in the part before the @".into(),
            );
        }
        let bad_domain = || "must have a domain like example.com after the @".to_owned();
        if domain
            .split('.')
            .any(|label| !label.is_ascii() && !label.is_single_script())
        {
            return Err("must not mix alphabets (like Latin and Cyrillic) in the domain".into());
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| bad_domain())?;
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(bad_domain());
        }
        let address = format!("{local}@{domain}");
        if address.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        Ok(Email(address))
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as shown on bookings: 1 to 100 characters in NFC, no control or invisible
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName(String);
kernel::plain_value!(FullName, String, parse: |s: String| FullName::parse(&s), plain: |n: &FullName| n.0.clone());

impl FullName {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 100;

    /// The name (in NFC, spaces folded), or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<FullName, String> {
        let s: String = raw.trim().nfc().collect();
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        if s.chars().any(is_invisible) {
            return Err("must not contain invisible or direction-changing characters".into());
        }
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        Ok(FullName(s.split_whitespace().collect::<Vec<_>>().join(" ")))
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password good enough to accept: 8 to 128 characters, no control characters, and not easy
/// to guess (zxcvbn's estimate: at least "somewhat guessable", which login throttling then
/// keeps out of reach). It crosses a process boundary in clear only to reach the users module,
/// which hashes it.
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
    /// The lowest zxcvbn score accepted (0 to 4).
    pub const MIN_SCORE: u8 = 2;

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
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        let estimate = zxcvbn::zxcvbn(raw, &[]);
        if u8::from(estimate.score()) < Self::MIN_SCORE {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            return Err(format!(
                "is too easy to guess{hint}: try a few unrelated words"
            ));
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
    fn a_plain_email_is_accepted_trimmed_and_its_domain_lowercased() {
        assert_eq!(
            Email::parse("  Ada@Example.com ").unwrap().as_str(),
            "Ada@example.com"
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

    #[test]
    fn common_and_control_character_passwords_are_rejected() {
        for weak in [
            "password",
            "12345678",
            "qwertyuiop",
            "aaaaaaaaaa",
            "iloveyou1",
        ] {
            let err = Password::parse(weak).unwrap_err();
            assert!(err.contains("too easy to guess"), "{weak:?}: {err}");
        }
        assert!(
            Password::parse("\0\0\0\0\0\0\0\0")
                .unwrap_err()
                .contains("control characters")
        );
        assert!(Password::parse("correct\u{7}horse").is_err());
    }

    #[test]
    fn an_email_has_one_spelling_nfc_and_an_ascii_domain() {
        // é composed and decomposed are one address.
        let composed = Email::parse("ren\u{e9}@example.com").unwrap();
        let decomposed = Email::parse("rene\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        // An IDN domain and its punycode are one domain.
        assert_eq!(
            Email::parse("ada@b\u{fc}cher.de").unwrap().as_str(),
            "ada@xn--bcher-kva.de"
        );
        assert_eq!(
            Email::parse("ada@XN--BCHER-KVA.de").unwrap().as_str(),
            "ada@xn--bcher-kva.de"
        );
        // A wholly Cyrillic local part is a real address.
        assert!(Email::parse("\u{430}\u{434}\u{430}@example.com").is_ok());
    }

    #[test]
    fn look_alike_and_invisible_emails_are_rejected() {
        for (bad, why) in [
            ("p\u{430}ypal@example.com", "mix alphabets"),
            ("ada@ex\u{430}mple.com", "mix alphabets"),
            ("ada\u{200b}@example.com", "invisible"),
            ("\u{202e}moc.elpmaxe@ada", "invisible"),
            ("ada@example.com\u{feff}", "invisible"),
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn invisible_names_are_rejected_and_names_are_nfc() {
        assert!(
            FullName::parse("\u{200b}")
                .unwrap_err()
                .contains("invisible")
        );
        assert!(FullName::parse("Ada\u{202e}ecalevol").is_err());
        assert_eq!(
            FullName::parse("Rene\u{301} Descartes").unwrap().as_str(),
            "Ren\u{e9} Descartes"
        );
    }
}
