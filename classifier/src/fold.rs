//! Folding for matching: lower case, Vietnamese diacritics removed (`đ` → `d`), so cue
//! phrases match text written with or without marks. Keeps a map back to the original
//! byte offsets so explanations point at the text as written.

const GROUPS: &[(&str, char)] = &[
    ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
    ("èéẹẻẽêềếệểễ", 'e'),
    ("ìíịỉĩ", 'i'),
    ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
    ("ùúụủũưừứựửữ", 'u'),
    ("ỳýỵỷỹ", 'y'),
    ("đ", 'd'),
];

fn fold_char(c: char) -> char {
    let c = c.to_lowercase().next().unwrap_or(c);
    if c.is_ascii() {
        return c;
    }
    for (set, base) in GROUPS {
        if set.contains(c) {
            return *base;
        }
    }
    c
}

/// Folded text and, for each folded byte offset where a char starts, the original offset.
#[derive(Debug)]
pub struct Folded {
    pub text: String,
    starts: Vec<(usize, usize)>,
    orig_len: usize,
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut starts = Vec::with_capacity(original.len());
        for (orig_at, c) in original.char_indices() {
            starts.push((text.len(), orig_at));
            text.push(fold_char(c));
        }
        Folded {
            text,
            starts,
            orig_len: original.len(),
        }
    }

    /// Original byte offset of folded byte offset `at` (a char boundary or the end).
    pub fn original_offset(&self, at: usize) -> usize {
        match self.starts.binary_search_by_key(&at, |(f, _)| *f) {
            Ok(i) => self.starts[i].1,
            Err(_) => self.orig_len,
        }
    }
}

/// Folds a phrase (no offset map needed).
pub fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_marks_and_maps_back() {
        let f = Folded::new("Việc NHẸ lương cao");
        assert_eq!(f.text, "viec nhe luong cao");
        let at = f.text.find("nhe").unwrap();
        assert_eq!(f.original_offset(at), "Việc ".len());
        assert_eq!(fold("Đầu tư"), "dau tu");
    }
}
