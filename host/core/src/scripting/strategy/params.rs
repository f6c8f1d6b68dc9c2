//! Parameters a strategy declares with `fn params() { #{ fast: 10, slow: 30 } }`: their names,
//! defaults and types, so the UI can show a form and the command line can take `--param K=V`,
//! with a value of the wrong type refused by name.

use rhai::{Dynamic, Map};
use rust_decimal::Decimal;

/// A parameter's value; its type is the type of the declared default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Int(i64),
    Decimal(Decimal),
    Bool(bool),
    Text(String),
}

impl ParamValue {
    /// The value a script declared, if it is of a supported type.
    pub fn from_dynamic(value: &Dynamic) -> Option<Self> {
        if let Ok(i) = value.as_int() {
            return Some(Self::Int(i));
        }
        if let Some(d) = value.clone().try_cast::<Decimal>() {
            return Some(Self::Decimal(d));
        }
        if let Ok(b) = value.as_bool() {
            return Some(Self::Bool(b));
        }
        value.is_string().then(|| Self::Text(value.to_string()))
    }

    pub fn to_dynamic(&self) -> Dynamic {
        match self {
            Self::Int(i) => Dynamic::from_int(*i),
            Self::Decimal(d) => Dynamic::from_decimal(*d),
            Self::Bool(b) => Dynamic::from_bool(*b),
            Self::Text(s) => Dynamic::from(s.clone()),
        }
    }

    /// Reads `text` as a value of the same type as `self`.
    pub fn parse_like(&self, text: &str) -> Result<Self, String> {
        let text = text.trim();
        match self {
            Self::Int(_) => text
                .parse()
                .map(Self::Int)
                .map_err(|_| format!("expected an integer, got `{text}`")),
            Self::Decimal(_) => text
                .parse()
                .map(Self::Decimal)
                .map_err(|_| format!("expected a number, got `{text}`")),
            Self::Bool(_) => match text {
                "true" | "yes" | "1" => Ok(Self::Bool(true)),
                "false" | "no" | "0" => Ok(Self::Bool(false)),
                _ => Err(format!("expected true or false, got `{text}`")),
            },
            Self::Text(_) => Ok(Self::Text(text.to_owned())),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Int(_) => "integer",
            Self::Decimal(_) => "decimal",
            Self::Bool(_) => "true/false",
            Self::Text(_) => "text",
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Decimal(d) => write!(f, "{d}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: String,
    pub default: ParamValue,
}

/// Parameter values by name, in name order.
pub type ParamValues = std::collections::BTreeMap<String, ParamValue>;

/// The defaults with `overrides` (`K=V` each) applied; an unknown name or a value of the
/// wrong type is an error naming it.
pub fn resolve(specs: &[ParamSpec], overrides: &[String]) -> Result<ParamValues, String> {
    let mut values: ParamValues = specs
        .iter()
        .map(|s| (s.name.clone(), s.default.clone()))
        .collect();
    for text in overrides {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("--param {text}: expected NAME=VALUE"))?;
        let name = name.trim();
        let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| {
            let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            format!(
                "--param {text}: the script declares no parameter `{name}` (it declares: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })?;
        let parsed = spec
            .default
            .parse_like(value)
            .map_err(|e| format!("--param {text}: {e}"))?;
        values.insert(name.to_owned(), parsed);
    }
    Ok(values)
}

/// The values as the script's `params` map.
pub fn to_map(values: &ParamValues) -> Map {
    values
        .iter()
        .map(|(k, v)| (k.as_str().into(), v.to_dynamic()))
        .collect()
}

/// The values as JSON (decimals as strings), for storing with a run.
pub fn to_json(values: &ParamValues) -> serde_json::Value {
    values
        .iter()
        .map(|(k, v)| {
            let json = match v {
                ParamValue::Int(i) => serde_json::Value::from(*i),
                ParamValue::Decimal(d) => serde_json::Value::String(d.to_string()),
                ParamValue::Bool(b) => serde_json::Value::Bool(*b),
                ParamValue::Text(s) => serde_json::Value::String(s.clone()),
            };
            (k.clone(), json)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn overrides_keep_the_declared_type() {
        let specs = vec![
            ParamSpec {
                name: "fast".into(),
                default: ParamValue::Int(10),
            },
            ParamSpec {
                name: "k".into(),
                default: ParamValue::Decimal(dec!(2)),
            },
        ];
        let values = resolve(&specs, &["fast=5".into(), "k=2.5".into()]).unwrap();
        assert_eq!(values["fast"], ParamValue::Int(5));
        assert_eq!(values["k"], ParamValue::Decimal(dec!(2.5)));
        let err = resolve(&specs, &["fast=1.5".into()]).unwrap_err();
        assert_eq!(err, "--param fast=1.5: expected an integer, got `1.5`");
        let err = resolve(&specs, &["slow=3".into()]).unwrap_err();
        assert!(
            err.contains("declares no parameter `slow`") && err.contains("fast, k"),
            "{err}"
        );
        assert!(
            resolve(&specs, &["fast".into()])
                .unwrap_err()
                .contains("NAME=VALUE")
        );
    }
}
