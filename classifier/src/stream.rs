//! JSONL in, JSONL out: the contract of `scamsweep classify --input`. One output line per
//! input line, in order; a line that is not a JSON object with a string `text` (or is not
//! UTF-8, or is longer than [`MAX_LINE`]) becomes `{"id": null, "line": N, "error": …}` and
//! the stream goes on. Lines are read in bounded batches, so memory does not grow with the
//! input.

use std::io::{BufRead, Write};

use serde_json::{Map, Value, json};

use crate::{Classifier, ClassifierError, Input, LABELS};

/// Longest input line accepted (bytes); longer lines are reported and skipped.
pub const MAX_LINE: usize = 16 << 20;
/// Lines classified together.
const BATCH_LINES: usize = 64;
/// Text bytes classified together (a batch closes early when it holds this much).
const BATCH_BYTES: usize = 4 << 20;

/// What a stream run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounts {
    pub lines: usize,
    pub classified: usize,
    pub errors: usize,
}

/// One input line after parsing.
enum Parsed {
    Ok { id: Value, text: String },
    Err(String),
}

/// Reads one line (without its `\n`) into `buf`, keeping at most `MAX_LINE` bytes; returns
/// `None` at end of input, else whether the line was cut.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = r.fill_buf()?;
        if available.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(too_long));
        }
    }
}

fn parse(bytes: &[u8], too_long: bool) -> Parsed {
    if too_long {
        return Parsed::Err(format!("line longer than {} MiB", MAX_LINE >> 20));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Parsed::Err(format!("not UTF-8: {e}")),
    };
    if text.trim().is_empty() {
        return Parsed::Err("empty line".into());
    }
    let mut obj: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Parsed::Err("not a JSON object".into()),
        Err(e) => return Parsed::Err(format!("invalid JSON: {e}")),
    };
    let id = obj.remove("id").unwrap_or(Value::Null);
    match obj.remove("text") {
        Some(Value::String(text)) => Parsed::Ok { id, text },
        Some(_) => Parsed::Err("`text` is not a string".into()),
        None => Parsed::Err("no `text` field".into()),
    }
}

/// Classifies every line of `input` and writes one result line per input line to `output`.
pub fn classify_jsonl(
    classifier: &dyn Classifier,
    mut input: impl BufRead,
    mut output: impl Write,
) -> Result<StreamCounts, ClassifierError> {
    let io = |e: std::io::Error| ClassifierError::Failed(format!("i/o: {e}"));
    let model = classifier.id();
    let mut counts = StreamCounts::default();
    let mut buf = Vec::new();
    let mut batch: Vec<(usize, Parsed)> = Vec::with_capacity(BATCH_LINES);
    let mut batch_bytes = 0usize;
    let mut eof = false;
    while !eof {
        match read_line(&mut input, &mut buf).map_err(io)? {
            None => eof = true,
            Some(too_long) => {
                counts.lines += 1;
                let p = parse(&buf, too_long);
                if let Parsed::Ok { text, .. } = &p {
                    batch_bytes += text.len();
                }
                batch.push((counts.lines, p));
            }
        }
        if batch.len() >= BATCH_LINES || batch_bytes >= BATCH_BYTES || (eof && !batch.is_empty()) {
            flush(classifier, &model, &mut batch, &mut output, &mut counts)?;
            batch_bytes = 0;
        }
    }
    output.flush().map_err(io)?;
    Ok(counts)
}

fn flush(
    classifier: &dyn Classifier,
    model: &str,
    batch: &mut Vec<(usize, Parsed)>,
    output: &mut impl Write,
    counts: &mut StreamCounts,
) -> Result<(), ClassifierError> {
    let inputs: Vec<Input<'_>> = batch
        .iter()
        .filter_map(|(_, p)| match p {
            Parsed::Ok { text, .. } => Some(Input { title: None, text }),
            Parsed::Err(_) => None,
        })
        .collect();
    let mut predictions = classifier.classify_batch(&inputs, false)?.into_iter();
    for (line, p) in batch.drain(..) {
        let out = match p {
            Parsed::Ok { id, .. } => {
                let pred = predictions.next().ok_or_else(|| {
                    ClassifierError::Failed("classifier returned too few predictions".into())
                })?;
                counts.classified += 1;
                let scores: Map<String, Value> = LABELS
                    .iter()
                    .zip(pred.probabilities)
                    .map(|(l, p)| ((*l).to_string(), json!(p)))
                    .collect();
                json!({"id": id, "label": pred.label, "scores": scores, "model": model})
            }
            Parsed::Err(error) => {
                counts.errors += 1;
                json!({"id": null, "line": line, "error": error})
            }
        };
        serde_json::to_writer(&mut *output, &out)
            .map_err(|e| ClassifierError::Failed(format!("i/o: {e}")))?;
        output
            .write_all(b"\n")
            .map_err(|e| ClassifierError::Failed(format!("i/o: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::KeywordRules;

    fn run(input: &[u8]) -> Vec<Value> {
        let mut out = Vec::new();
        classify_jsonl(&KeywordRules::new(), input, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn one_output_per_line_in_order_with_errors_inline() {
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"id\": 1, \"text\": \"nap usdt lai 3%/ngay\"}\n");
        input.extend_from_slice(b"{oops\n");
        input.extend_from_slice(b"\n");
        input.extend_from_slice(b"{\"id\": \"x\", \"text\": \"\xff\xfe\"}\n");
        input.extend_from_slice(b"[1,2]\n");
        input.extend_from_slice(b"{\"id\": 7}\n");
        input.extend_from_slice(b"{\"id\": \"last\", \"text\": \"\", \"other\": 1}");
        let out = run(&input);
        assert_eq!(out.len(), 7);
        assert_eq!(out[0]["id"], 1);
        assert_eq!(out[0]["model"], "keyword-rules@1");
        assert_eq!(out[0]["scores"].as_object().unwrap().len(), 5);
        for (i, want) in [
            (1, "invalid JSON"),
            (2, "empty line"),
            (3, "not UTF-8"),
            (4, "not a JSON object"),
            (5, "no `text`"),
        ] {
            assert_eq!(out[i]["id"], Value::Null);
            assert_eq!(out[i]["line"], i + 1);
            assert!(
                out[i]["error"].as_str().unwrap().contains(want),
                "{i}: {}",
                out[i]
            );
        }
        assert_eq!(out[6]["id"], "last");
        assert_eq!(out[6]["label"], "benign");
    }

    #[test]
    fn overlong_line_is_reported_and_the_next_line_still_read() {
        let mut input = Vec::with_capacity(MAX_LINE + 100);
        input.extend_from_slice(b"{\"id\": 1, \"text\": \"");
        input.resize(MAX_LINE + 50, b'a');
        input.extend_from_slice(b"\"}\r\n{\"id\": 2, \"text\": \"ok\"}\n");
        let out = run(&input);
        assert_eq!(out.len(), 2);
        assert!(out[0]["error"].as_str().unwrap().contains("longer than"));
        assert_eq!(out[1]["id"], 2);
    }
}
