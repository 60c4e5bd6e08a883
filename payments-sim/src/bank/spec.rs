//! A bank's data file: name, sandbox flag, routing weight, latency, outcome rates,
//! request message template (placeholders `{payment_id}`, `{merchant}`,
//! `{amount_cents}`, `{amount_yuan}`, `{card}`) and the mapping of the bank's own
//! result codes to platform codes.

use crate::error::SimError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Which of the bank's codes it answers with.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Responses {
    pub success: String,
    pub decline: String,
    pub error: String,
}

/// One bank, as its data file describes it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BankSpec {
    pub name: String,
    /// A stress-test bank: only shadow traffic goes here, and shadow goes nowhere else.
    #[serde(default)]
    pub sandbox: bool,
    /// Default routing weight.
    pub weight: u32,
    pub latency_base_us: u64,
    #[serde(default)]
    pub latency_jitter_us: u64,
    /// Declines (insufficient funds) per million charges.
    #[serde(default)]
    pub decline_per_million: u32,
    /// System errors per million charges.
    #[serde(default)]
    pub error_per_million: u32,
    pub template: String,
    pub responses: Responses,
    /// The bank's result code → platform code.
    pub codes: BTreeMap<String, String>,
}

const PLACEHOLDERS: [&str; 5] = [
    "payment_id",
    "merchant",
    "amount_cents",
    "amount_yuan",
    "card",
];
/// Platform codes a bank code may map to.
const PLATFORM_CODES: [&str; 4] = [
    "SUCCESS",
    "INSUFFICIENT_FUNDS",
    "BANK_SYSTEM_ERROR",
    "BANK_DECLINED",
];

impl BankSpec {
    /// Parses and checks a data file; errors name the file and the field.
    pub(crate) fn parse(file: &str, text: &str) -> Result<BankSpec, SimError> {
        let bad = |reason: String| SimError::BankData {
            file: file.to_string(),
            reason,
        };
        let spec: BankSpec = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if spec.name.is_empty() {
            return Err(bad("field `name`: empty".into()));
        }
        for (field, code) in [
            ("responses.success", &spec.responses.success),
            ("responses.decline", &spec.responses.decline),
            ("responses.error", &spec.responses.error),
        ] {
            if !spec.codes.contains_key(code) {
                return Err(bad(format!(
                    "field `{field}`: bank code {code:?} has no entry in `codes`"
                )));
            }
        }
        for (k, v) in &spec.codes {
            if !PLATFORM_CODES.contains(&v.as_str()) {
                return Err(bad(format!(
                    "field `codes.{k}`: {v:?} is not a platform code ({PLATFORM_CODES:?})"
                )));
            }
        }
        if spec.codes.get(&spec.responses.success).map(String::as_str) != Some("SUCCESS") {
            return Err(bad("field `responses.success`: must map to SUCCESS".into()));
        }
        if spec.decline_per_million as u64 + spec.error_per_million as u64 > 1_000_000 {
            return Err(bad(
                "fields `decline_per_million` + `error_per_million` exceed 1,000,000".into(),
            ));
        }
        let mut rest = spec.template.as_str();
        while let Some(i) = rest.find('{') {
            let after = &rest[i + 1..];
            match after.find('}') {
                Some(j) if PLACEHOLDERS.contains(&&after[..j]) => rest = &after[j + 1..],
                // A literal brace (JSON templates): skip it.
                _ => rest = after,
            }
        }
        Ok(spec)
    }

    /// Renders the request message for one charge.
    pub(crate) fn render(&self, payment_id: u64, merchant: &str, amount_cents: i64) -> String {
        let mut out = String::with_capacity(self.template.len() + 32);
        let mut rest = self.template.as_str();
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let (name, tail) = match after.find('}') {
                Some(j) => (&after[..j], &after[j + 1..]),
                None => ("", after),
            };
            use std::fmt::Write;
            match name {
                "payment_id" => {
                    let _ = write!(out, "{payment_id}");
                }
                "merchant" => out.push_str(merchant),
                "amount_cents" => {
                    let _ = write!(out, "{amount_cents}");
                }
                "amount_yuan" => {
                    let _ = write!(out, "{}.{:02}", amount_cents / 100, amount_cents % 100);
                }
                "card" => {
                    let _ = write!(out, "6222****{:04}", payment_id % 10_000);
                }
                _ => {
                    out.push('{');
                    rest = after;
                    continue;
                }
            }
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    /// The platform code of a bank code (unknown codes are a bank system error).
    pub(crate) fn map_code(&self, bank_code: &str) -> &'static str {
        match self.codes.get(bank_code).map(String::as_str) {
            Some("SUCCESS") => "SUCCESS",
            Some("INSUFFICIENT_FUNDS") => "INSUFFICIENT_FUNDS",
            Some("BANK_DECLINED") => "BANK_DECLINED",
            _ => "BANK_SYSTEM_ERROR",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_banks_parse_and_render() {
        let specs = crate::bank::builtin_specs().unwrap();
        assert!(specs.len() >= 4);
        assert!(specs.iter().any(|s| s.sandbox));
        let a = specs.iter().find(|s| s.name == "bank-a").unwrap();
        let m = a.render(42, "m-7", 12345);
        assert!(
            m.contains("<OrderNo>42</OrderNo>") && m.contains("<TxnAmt>123.45</TxnAmt>"),
            "{m}"
        );
        let c = specs.iter().find(|s| s.name == "bank-c").unwrap();
        let m = c.render(42, "m-7", 12345);
        assert!(
            m.starts_with("{\"mch\":\"m-7\"") && m.contains("\"total_fee\":12345"),
            "{m}"
        );
        assert_eq!(a.map_code("E1001"), "INSUFFICIENT_FUNDS");
        assert_eq!(a.map_code("nonsense"), "BANK_SYSTEM_ERROR");
    }

    #[test]
    fn bad_bank_data_names_the_field() {
        let ok = crate::bank::BUILTIN[0].1;
        let e = BankSpec::parse(
            "x.toml",
            &ok.replace("error = \"E9999\"", "error = \"E0000\""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("responses.error"), "{e}");
        let e = BankSpec::parse("x.toml", &format!("{ok}\nretries = 3\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("retries"), "{e}");
        let e = BankSpec::parse(
            "x.toml",
            &ok.replace(
                "\"E1001\" = \"INSUFFICIENT_FUNDS\"",
                "\"E1001\" = \"MAYBE\"",
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("codes.E1001"), "{e}");
    }
}
