//! Interface texts in pt-BR (default) and English, from `locales/*.toml`.
//!
//! Both files are compiled in and must have the same keys (a test checks).
//! `{name}` placeholders are replaced by [`Tr::fmt`]. Status and type labels
//! come from `domain`, where the seed fixes them verbatim.

use std::{collections::HashMap, sync::Arc};

use crate::domain::Lang;

/// The texts of each language: the portal's file, then one file per area
/// (agent workspace, admin, e-mail). Keys must not repeat across files.
const PT_BR: &[(&str, &str)] = &[
    ("pt-BR.toml", include_str!("../locales/pt-BR.toml")),
    (
        "pt-BR/agent.toml",
        include_str!("../locales/pt-BR/agent.toml"),
    ),
    (
        "pt-BR/admin.toml",
        include_str!("../locales/pt-BR/admin.toml"),
    ),
    (
        "pt-BR/mail.toml",
        include_str!("../locales/pt-BR/mail.toml"),
    ),
    ("pt-BR/hc.toml", include_str!("../locales/pt-BR/hc.toml")),
    (
        "pt-BR/live.toml",
        include_str!("../locales/pt-BR/live.toml"),
    ),
    (
        "pt-BR/widget.toml",
        include_str!("../locales/pt-BR/widget.toml"),
    ),
    (
        "pt-BR/widget_api.toml",
        include_str!("../locales/pt-BR/widget_api.toml"),
    ),
];
const EN: &[(&str, &str)] = &[
    ("en.toml", include_str!("../locales/en.toml")),
    ("en/agent.toml", include_str!("../locales/en/agent.toml")),
    ("en/admin.toml", include_str!("../locales/en/admin.toml")),
    ("en/mail.toml", include_str!("../locales/en/mail.toml")),
    ("en/hc.toml", include_str!("../locales/en/hc.toml")),
    ("en/live.toml", include_str!("../locales/en/live.toml")),
    ("en/widget.toml", include_str!("../locales/en/widget.toml")),
    (
        "en/widget_api.toml",
        include_str!("../locales/en/widget_api.toml"),
    ),
];

/// Every text, by language and key.
#[derive(Debug)]
pub struct Catalog {
    pt_br: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Catalog {
    /// Parses the compiled-in files.
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            pt_br: parse_all(PT_BR)?,
            en: parse_all(EN)?,
        })
    }

    fn table(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::PtBr => &self.pt_br,
            Lang::En => &self.en,
        }
    }

    /// Keys present in one language and not the other.
    pub fn mismatched_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .pt_br
            .keys()
            .filter(|k| !self.en.contains_key(*k))
            .chain(self.en.keys().filter(|k| !self.pt_br.contains_key(*k)))
            .cloned()
            .collect();
        out.sort();
        out
    }
}

fn parse_all(files: &[(&str, &str)]) -> anyhow::Result<HashMap<String, String>> {
    let mut all = HashMap::new();
    for (name, source) in files {
        for (key, text) in parse(source, name)? {
            if all.insert(key.clone(), text).is_some() {
                anyhow::bail!("locales/{name}: key {key} is defined twice");
            }
        }
    }
    Ok(all)
}

fn parse(source: &str, name: &str) -> anyhow::Result<HashMap<String, String>> {
    let value: toml::Table =
        toml::from_str(source).map_err(|e| anyhow::anyhow!("locales/{name}: {e}"))?;
    let mut out = HashMap::new();
    flatten("", &value, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(text) => {
                out.insert(full, text.clone());
            }
            other => {
                out.insert(full, other.to_string());
            }
        }
    }
}

/// Texts in one language, handed to every template.
#[derive(Clone, Debug)]
pub struct Tr {
    pub lang: Lang,
    catalog: Arc<Catalog>,
}

impl Tr {
    pub fn new(catalog: Arc<Catalog>, lang: Lang) -> Self {
        Self { lang, catalog }
    }

    /// The text for `key`; a missing key shows itself, which the key test
    /// and the page tests catch.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalog
            .table(self.lang)
            .get(key)
            .map_or(key, String::as_str)
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The language code for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// A whole number as the language writes it: digits grouped by
    /// thousands with a dot in Portuguese (8.449) and a comma in English
    /// (8,449). Takes the number or a reference to it, as templates pass either.
    pub fn number(&self, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        let separator = match self.lang {
            Lang::PtBr => '.',
            Lang::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(separator);
            }
            out.push(digit);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands_as_each_language_writes_them() {
        let catalog = Arc::new(Catalog::load().expect("locales parse"));
        let pt = Tr::new(Arc::clone(&catalog), Lang::PtBr);
        let en = Tr::new(catalog, Lang::En);
        assert_eq!(pt.number(0), "0");
        assert_eq!(pt.number(999), "999");
        assert_eq!(pt.number(8449), "8.449");
        assert_eq!(pt.number(1_000_000), "1.000.000");
        assert_eq!(en.number(102_425), "102,425");
        assert_eq!(en.number(-1234), "-1,234");
        assert_eq!(en.number(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let catalog = Catalog::load().expect("locales parse");
        assert_eq!(catalog.mismatched_keys(), Vec::<String>::new());
    }

    #[test]
    fn placeholders_are_filled() {
        let tr = Tr::new(
            Arc::new(Catalog::load().expect("locales parse")),
            Lang::PtBr,
        );
        assert_eq!(
            tr.fmt("sso.advice_logout", &[("platform", "Kamino")]),
            "Saia da plataforma Kamino."
        );
    }
}
