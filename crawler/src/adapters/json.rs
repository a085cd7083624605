//! Owns the adapter for JSON bodies that are not feeds (API answers, app configuration):
//! one `web` item whose text is the document's string values (arrays in order, object
//! members in key order), walked without recursion.

use serde_json::{Value, json};
use url::Url;

use crate::extract::{Extracted, ItemDraft, MAX_TEXT_BYTES, normalize_ws, web_key};

/// Most JSON values visited in one body.
const MAX_NODES: usize = 200_000;

/// The string values of a JSON document, one per line: arrays in order, object members in
/// key order.
pub fn string_values(v: &Value) -> String {
    let mut out = String::new();
    let mut stack = vec![v];
    let mut visited = 0;
    while let Some(v) = stack.pop() {
        visited += 1;
        if visited > MAX_NODES || out.len() > 2 * MAX_TEXT_BYTES {
            break;
        }
        match v {
            Value::String(s) => {
                let s = s.trim();
                if !s.is_empty() {
                    out.push_str(s);
                    out.push('\n');
                }
            }
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => stack.extend(o.values().rev()),
            _ => {}
        }
    }
    normalize_ws(&out)
}

/// `text` is the decoded body. Invalid JSON yields nothing.
pub(crate) fn extract(final_url: &Url, text: &str) -> Extracted {
    let Ok(value) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) else {
        return Extracted::default();
    };
    let text = string_values(&value);
    if text.is_empty() {
        return Extracted::default();
    }
    Extracted {
        items: vec![
            ItemDraft {
                meta: json!({ "format": "json" }),
                ..ItemDraft::new(web_key(final_url), "web", final_url.as_str(), text)
            }
            .finish(),
        ],
        ..Extracted::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::extract;
    use url::Url;

    #[test]
    fn json_strings_become_one_item() {
        let body = r#"{"thongbao": {"tieude": "Nhận thưởng 5 triệu", "noidung": ["Nhập mã OTP", 5, null, true, {"x": "  "}]}, "ma": 123}"#;
        let u = Url::parse("http://h/api/khuyen-mai?id=1").unwrap();
        let e = extract(&u, Some("application/json"), body.as_bytes());
        assert_eq!(e.items.len(), 1);
        assert_eq!(e.items[0].text, "Nhập mã OTP\nNhận thưởng 5 triệu");
        assert_eq!(e.items[0].kind, "web");
        assert_eq!(e.items[0].doc_key, "web:http://h/api/khuyen-mai?id=1");
        assert!(e.links.is_empty());
    }

    #[test]
    fn hostile_json() {
        let u = Url::parse("http://h/a").unwrap();
        for bad in [
            "{".to_string(),
            "[1, 2,]".to_string(),
            "[".repeat(100_000),
            format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
            "{\"a\": \"\\ud800\"}".to_string(),
        ] {
            let e = extract(&u, Some("application/json"), bad.as_bytes());
            assert!(e.items.is_empty());
        }
        // Many values and long strings stay bounded.
        let big = format!("[{}\"end\"]", "\"lừa đảo\",".repeat(500_000));
        let e = extract(&u, Some("application/json"), big.as_bytes());
        assert!(e.items[0].text.len() <= crate::extract::MAX_TEXT_BYTES);
        // Sniffed without a content type.
        let e = extract(&u, None, br#"  {"a": "xin chao ban"}"#);
        assert_eq!(e.items[0].text, "xin chao ban");
    }
}
