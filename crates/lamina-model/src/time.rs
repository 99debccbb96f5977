//! Timestamp formats the Lambda API uses on the wire (§0.4).

use chrono::{DateTime, Utc};

/// `LastModified` / `CreatedDate`: `2019-08-14T22:26:11.234+0000`.
pub fn lambda_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_with_millis_and_numeric_offset() {
        let t = Utc
            .timestamp_millis_opt(1_565_821_571_234)
            .single()
            .expect("valid");
        assert_eq!(lambda_timestamp(t), "2019-08-14T22:26:11.234+0000");
    }
}
