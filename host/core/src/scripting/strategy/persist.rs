//! A strategy's `state` map as JSON, so an instance can be saved to PostgreSQL and restored.
//! Decimals stay exact (`{"$decimal": "1.25"}`), indicators keep their windows
//! (`{"$ta": {"kind": "sma", …}}`), and a value that cannot be saved is named by its path.

use rhai::{Array, Dynamic, Map};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::types::ScriptBar;
use crate::scripting::ta;

/// `state` as JSON; the error names the first value that cannot be saved (`state.x[2]`).
pub fn to_json(state: &Map) -> Result<Value, String> {
    map_to_json(state, "state")
}

fn map_to_json(map: &Map, path: &str) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    for (key, value) in map {
        out.insert(
            key.to_string(),
            value_to_json(value, &format!("{path}.{key}"))?,
        );
    }
    // A user map that looks like one of our tags is wrapped, so it reads back as a map.
    if out.len() == 1 && out.keys().all(|k| k.starts_with('$')) {
        return Ok(json!({ "$map": Value::Object(out) }));
    }
    Ok(Value::Object(out))
}

macro_rules! tagged_ta {
    ($value:expr, $path:expr, $($ty:ident => $kind:literal),+) => {
        $(
            if let Some(indicator) = $value.clone().try_cast::<ta::$ty>() {
                let body = serde_json::to_value(indicator)
                    .map_err(|e| format!("{}: {e}", $path))?;
                return Ok(json!({ "$ta": { "kind": $kind, "value": body } }));
            }
        )+
    };
}

fn value_to_json(value: &Dynamic, path: &str) -> Result<Value, String> {
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::from(i));
    }
    if let Some(d) = value.clone().try_cast::<Decimal>() {
        return Ok(json!({ "$decimal": d.to_string() }));
    }
    if value.is_string() {
        return Ok(Value::String(value.to_string()));
    }
    if let Some(array) = value.read_lock::<Array>() {
        return array
            .iter()
            .enumerate()
            .map(|(i, v)| value_to_json(v, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        return map_to_json(&map, path);
    }
    if let Some(bar) = value.clone().try_cast::<ScriptBar>() {
        let body = json!({
            "symbol": bar.symbol, "time": bar.time, "open": bar.open, "high": bar.high,
            "low": bar.low, "close": bar.close, "volume": bar.volume,
        });
        return Ok(json!({ "$bar": body }));
    }
    tagged_ta!(value, path,
        Sma => "sma", Ema => "ema", Rsi => "rsi", Atr => "atr", Bollinger => "bollinger",
        Vwap => "vwap", Rolling => "rolling", Cross => "cross");
    Err(format!(
        "{path} holds a {}, which cannot be saved; keep numbers, text, arrays, maps, bars or ta indicators in state",
        value.type_name()
    ))
}

/// The `state` map saved by [`to_json`].
pub fn from_json(value: &Value) -> Result<Map, String> {
    match json_to_value(value, "state")?.try_cast::<Map>() {
        Some(map) => Ok(map),
        None => Err("state: the saved state is not a map".into()),
    }
}

fn json_to_value(value: &Value, path: &str) -> Result<Dynamic, String> {
    Ok(match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => Dynamic::from_int(
            n.as_i64()
                .ok_or_else(|| format!("{path}: {n} is not a saved integer"))?,
        ),
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => Dynamic::from_array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| json_to_value(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(object) => {
            if object.len() == 1
                && let Some((tag, body)) = object.iter().next()
                && tag.starts_with('$')
            {
                return tagged(tag, body, path);
            }
            let mut map = Map::new();
            for (key, v) in object {
                map.insert(
                    key.as_str().into(),
                    json_to_value(v, &format!("{path}.{key}"))?,
                );
            }
            Dynamic::from_map(map)
        }
    })
}

fn tagged(tag: &str, body: &Value, path: &str) -> Result<Dynamic, String> {
    let bad = |e: serde_json::Error| format!("{path}: {e}");
    match tag {
        "$decimal" => body
            .as_str()
            .and_then(|s| s.parse::<Decimal>().ok())
            .map(Dynamic::from_decimal)
            .ok_or_else(|| format!("{path}: not a saved decimal")),
        "$map" => {
            let mut map = Map::new();
            for (key, v) in body
                .as_object()
                .ok_or_else(|| format!("{path}: not a saved map"))?
            {
                map.insert(
                    key.as_str().into(),
                    json_to_value(v, &format!("{path}.{key}"))?,
                );
            }
            Ok(Dynamic::from_map(map))
        }
        "$bar" => {
            #[derive(serde::Deserialize)]
            struct Saved {
                symbol: String,
                time: chrono::DateTime<chrono::Utc>,
                open: Decimal,
                high: Decimal,
                low: Decimal,
                close: Decimal,
                volume: Decimal,
            }
            let s: Saved = serde_json::from_value(body.clone()).map_err(bad)?;
            Ok(Dynamic::from(ScriptBar {
                symbol: s.symbol,
                time: s.time,
                open: s.open,
                high: s.high,
                low: s.low,
                close: s.close,
                volume: s.volume,
            }))
        }
        "$ta" => {
            let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
            let inner = body.get("value").cloned().unwrap_or(Value::Null);
            macro_rules! read {
                ($ty:ident) => {
                    Dynamic::from(serde_json::from_value::<ta::$ty>(inner).map_err(bad)?)
                };
            }
            Ok(match kind {
                "sma" => read!(Sma),
                "ema" => read!(Ema),
                "rsi" => read!(Rsi),
                "atr" => read!(Atr),
                "bollinger" => read!(Bollinger),
                "vwap" => read!(Vwap),
                "rolling" => read!(Rolling),
                "cross" => read!(Cross),
                other => return Err(format!("{path}: unknown saved indicator `{other}`")),
            })
        }
        other => Err(format!("{path}: unknown saved value `{other}`")),
    }
}
