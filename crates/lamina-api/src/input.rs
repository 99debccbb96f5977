//! Reading request inputs: the query string and the JSON body, with AWS's errors for malformed ones.

use lamina_model::error::Violation;
use lamina_model::LambdaError;
use serde::de::DeserializeOwned;

/// Decoded query pairs in order.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// The request as operations see it.
#[derive(Debug)]
pub struct Input {
    /// Query pairs.
    pub query: Vec<(String, String)>,
    /// Raw body.
    pub body: bytes::Bytes,
}

impl Input {
    /// First value of a query parameter.
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeated query parameter.
    pub fn q_all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Parse the JSON body; an empty body is `{}`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, LambdaError> {
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            LambdaError::Serialization(format!("Could not parse the request body: {e}"))
        })
    }

    /// `MaxItems` within `1..=max_model`, capped to `page_cap`.
    pub fn max_items(&self, max_model: i64, page_cap: usize) -> Result<usize, LambdaError> {
        let Some(raw) = self.q("MaxItems") else {
            return Ok(page_cap);
        };
        let n: i64 = raw.parse().map_err(|_| {
            LambdaError::violation(Violation::new(raw, "maxItems", "Member must be a number"))
        })?;
        if n < 1 {
            return Err(LambdaError::violation(Violation::new(
                n,
                "maxItems",
                "Member must have value greater than or equal to 1",
            )));
        }
        if n > max_model {
            return Err(LambdaError::violation(Violation::new(
                n,
                "maxItems",
                format!("Member must have value less than or equal to {max_model}"),
            )));
        }
        Ok((n as usize).min(page_cap))
    }
}
