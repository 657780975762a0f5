//! Forms as data: each field knows its label, value and error, and `_field.html` renders it.

use std::borrow::Cow;

use actix_web::{ResponseError, http::StatusCode};
use kernel::FieldErrors;

use super::PageError;
use crate::http::ApiError;

/// One form input.
pub(crate) struct FormField {
    pub(crate) name: Cow<'static, str>,
    pub(crate) label: Cow<'static, str>,
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    pub(crate) error: Option<String>,
    pub(crate) help: Option<String>,
    pub(crate) autocomplete: &'static str,
    pub(crate) required: bool,
    pub(crate) attrs: Vec<(&'static str, String)>,
    pub(crate) options: Vec<(String, String)>,
}

impl FormField {
    pub(crate) fn new(
        name: impl Into<Cow<'static, str>>,
        label: impl Into<Cow<'static, str>>,
        kind: &'static str,
    ) -> FormField {
        FormField {
            name: name.into(),
            label: label.into(),
            kind,
            value: String::new(),
            error: None,
            help: None,
            autocomplete: "",
            required: true,
            attrs: Vec::new(),
            options: Vec::new(),
        }
    }

    pub(crate) fn value(mut self, value: impl Into<String>) -> FormField {
        self.value = value.into();
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> FormField {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn autocomplete(mut self, autocomplete: &'static str) -> FormField {
        self.autocomplete = autocomplete;
        self
    }

    pub(crate) fn attr(mut self, name: &'static str, value: impl Into<String>) -> FormField {
        self.attrs.push((name, value.into()));
        self
    }
}

/// Puts each field error next to its input; returns the errors no field claimed.
pub(crate) fn attach_errors(fields: &mut [FormField], errors: &FieldErrors) -> Vec<String> {
    let mut unclaimed = Vec::new();
    for e in errors.iter() {
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(field) if field.error.is_none() => field.error = Some(e.message.clone()),
            Some(_) => {}
            None => unclaimed.push(format!("{} {}", e.field.replace('_', " "), e.message)),
        }
    }
    unclaimed
}

/// What a refused form says on the form: the refusal's field errors (or its detail on the form
/// as a whole, for a conflict that names no field) and its status. A failure that is nobody's
/// mistake is no form error: it becomes the error page.
pub(crate) fn refusal(e: impl Into<ApiError>) -> Result<(FieldErrors, StatusCode), PageError> {
    match e.into() {
        e @ (ApiError::Validation(_) | ApiError::Conflict { .. }) => {
            let errors = e
                .field_errors()
                .cloned()
                .unwrap_or_else(|| FieldErrors::single("form", e.problem().detail));
            Ok((errors, e.status_code()))
        }
        other => Err(other.into()),
    }
}
