//! Settings overridden from a JSON file (`backtest --config`, `evaluate
//! --config`): a JSON object naming some fields of a configuration struct;
//! the fields it does not name keep the profile's defaults.

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Reads the JSON object in `path` (`None`: no file, no overrides); `what`
/// names the settings it holds, for the error.
pub fn load(path: Option<&Path>, what: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let Some(p) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", p.display()))?;
    anyhow::ensure!(
        v.is_object(),
        "{}: must be a JSON object of {what}",
        p.display()
    );
    Ok(Some(v))
}

/// `base` with the fields `overrides` names replaced (an unknown field or
/// a value of the wrong type is an error naming it).
pub fn apply<T: Serialize + DeserializeOwned>(
    base: &T,
    overrides: Option<&serde_json::Value>,
) -> anyhow::Result<T> {
    let mut v = serde_json::to_value(base)?;
    if let (Some(obj), Some(over)) = (v.as_object_mut(), overrides.and_then(|o| o.as_object())) {
        for (k, val) in over {
            obj.insert(k.clone(), val.clone());
        }
    }
    Ok(serde_json::from_value(v)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::float_cmp)]
    use super::*;
    use safelane_core::OrientationConfig;

    #[test]
    fn named_fields_replace_the_defaults_and_unknown_ones_are_errors() {
        let base = OrientationConfig::default();
        let o = serde_json::json!({"heading_tau_s": 60.0});
        let c = apply(&base, Some(&o)).expect("applies");
        assert_eq!(c.heading_tau_s, 60.0);
        assert_eq!(c.tilt_tau_s, base.tilt_tau_s);
        assert_eq!(apply(&base, None).expect("no overrides"), base);
        let e = apply(&base, Some(&serde_json::json!({"heading_tau": 60.0})))
            .expect_err("unknown field");
        assert!(format!("{e:#}").contains("heading_tau"), "{e:#}");
        let e = apply(
            &base,
            Some(&serde_json::json!({"tilt_blocks_full": "five"})),
        )
        .expect_err("wrong type");
        assert!(format!("{e:#}").contains("five"), "{e:#}");
    }
}
