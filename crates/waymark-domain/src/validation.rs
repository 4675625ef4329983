//! Validation names the field and the rule, never the value, so an error can
//! be shown, logged or sent without carrying personal data.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldError {
    /// Dotted path of the field, e.g. `expiry.on` or `answers.q3`.
    pub field: String,
    /// The rule broken, in words a person can act on.
    pub rule: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.rule)
    }
}

/// Every rule a record breaks, so a form can show them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl ValidationErrors {
    pub fn single(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self(vec![FieldError { field: field.into(), rule: rule.into() }])
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }
}

/// Collects rule breaks while a record is checked.
#[derive(Debug, Default)]
pub struct Checker(Vec<FieldError>);

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn fail(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), rule: rule.into() });
    }
    pub fn require(&mut self, ok: bool, field: &str, rule: &str) {
        if !ok {
            self.fail(field, rule);
        }
    }
    pub fn not_blank(&mut self, value: &str, field: &str) {
        self.require(!value.trim().is_empty(), field, "must not be empty");
    }
    pub fn not_blank_opt(&mut self, value: Option<&str>, field: &str) {
        if let Some(v) = value {
            self.not_blank(v, field);
        }
    }
    pub fn not_before<T: PartialOrd>(
        &mut self,
        later: Option<T>,
        earlier: Option<T>,
        later_name: &str,
        earlier_name: &str,
    ) {
        if let (Some(l), Some(e)) = (later, earlier) {
            if l < e {
                self.fail(later_name, format!("is before {earlier_name}"));
            }
        }
    }
    pub fn merge(&mut self, prefix: &str, other: ValidationErrors) {
        for e in other.0 {
            self.fail(format!("{prefix}{}", e.field), e.rule);
        }
    }
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.0))
        }
    }
}
