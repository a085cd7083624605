//! Normalisation and tokenisation for the n-gram model: two views of every text and the
//! syllable tokens of each, with their character spans in the original text.
//!
//! View 0 ("marked") is NFKC plus lower case, diacritics kept: `Đầu Tư` → `đầu tư`, full-width
//! `０９` → `09`. View 1 ("plain") is view 0 decomposed with every combining mark dropped and
//! `đ` mapped to `d`: `đầu tư` → `dau tu`, so scam texts typed without diacritics share
//! features with those typed with them. Normalisation works per grapheme-ish cluster (a base
//! character and the combining marks after it), so NFD input (`e` + U+0302 + U+0301) gives the
//! same views as NFC input and every output character knows which input characters it came
//! from.
//!
//! A token is a maximal run of alphanumeric characters (Vietnamese syllables are
//! space-separated, so tokens are syllables), or one of the symbols in [`SYMBOLS`]. ASCII
//! digits become `0` in both views, so features learn the shape of phone numbers, amounts and
//! account numbers rather than the numbers themselves.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Characters that are tokens of their own: they carry meaning in scam texts
/// (`30%/tháng`, `500$`, `@handle`).
pub const SYMBOLS: &[char] = &['%', '$', '₫', '€', '@', '+'];

/// One token in both views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Range in [`Tokens::marked`].
    pub marked: Range<usize>,
    /// Range in [`Tokens::plain`].
    pub plain: Range<usize>,
    /// Character (not byte) range in the original segment.
    pub chars: Range<usize>,
    /// Which input segment (title, text) the token is in.
    pub segment: u8,
}

/// The tokens of a text, with the characters of both views in two flat buffers.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    pub marked: Vec<char>,
    pub plain: Vec<char>,
    pub tokens: Vec<Token>,
}

impl Tokens {
    pub fn marked(&self, t: &Token) -> &[char] {
        &self.marked[t.marked.clone()]
    }

    pub fn plain(&self, t: &Token) -> &[char] {
        &self.plain[t.plain.clone()]
    }

    pub fn clear(&mut self) {
        self.marked.clear();
        self.plain.clear();
        self.tokens.clear();
    }

    /// Appends the tokens of `text` as segment `segment`.
    pub fn push_segment(&mut self, text: &str, segment: u8) {
        let mut open: Option<Token> = None;
        let mut chars = text.chars().peekable();
        let mut at = 0usize;
        let mut cluster = String::new();
        while let Some(c) = chars.next() {
            let start = at;
            at += 1;
            let followed_by_mark = chars.peek().is_some_and(|n| is_combining_mark(*n));
            if c.is_ascii() && !followed_by_mark {
                let l = c.to_ascii_lowercase();
                self.step(&mut open, l, std::iter::once(l), start..at, segment);
                continue;
            }
            if !followed_by_mark
                && let Some(&(marked, plain)) = fast_table().get(c as usize)
                && marked != '\0'
            {
                self.step(
                    &mut open,
                    marked,
                    std::iter::once(plain),
                    start..at,
                    segment,
                );
                continue;
            }
            cluster.clear();
            cluster.push(c);
            while let Some(n) = chars.next_if(|n| is_combining_mark(*n)) {
                cluster.push(n);
                at += 1;
            }
            for n in cluster.nfkc() {
                for l in n.to_lowercase() {
                    let plain = std::iter::once(l)
                        .nfd()
                        .filter(|p| !is_combining_mark(*p))
                        .map(|p| if p == 'đ' { 'd' } else { p });
                    self.step(&mut open, l, plain, start..at, segment);
                }
            }
        }
        if let Some(t) = open.take() {
            self.tokens.push(t);
        }
    }

    /// Feeds one normalised character (and its plain-view characters) into the tokeniser.
    fn step(
        &mut self,
        open: &mut Option<Token>,
        marked: char,
        plain: impl Iterator<Item = char>,
        chars: Range<usize>,
        segment: u8,
    ) {
        let symbol = SYMBOLS.contains(&marked);
        if !marked.is_alphanumeric() || symbol {
            if let Some(t) = open.take() {
                self.tokens.push(t);
            }
            if !symbol {
                return;
            }
        }
        let marked = if marked.is_ascii_digit() { '0' } else { marked };
        let t = open.get_or_insert_with(|| Token {
            marked: self.marked.len()..self.marked.len(),
            plain: self.plain.len()..self.plain.len(),
            chars: chars.start..chars.start,
            segment,
        });
        self.marked.push(marked);
        t.marked.end = self.marked.len();
        self.plain
            .extend(plain.map(|p| if p.is_ascii_digit() { '0' } else { p }));
        t.plain.end = self.plain.len();
        t.chars.end = chars.end;
        if symbol && let Some(t) = open.take() {
            self.tokens.push(t);
        }
    }
}

/// Both views of every code point below U+2000 (Latin, Latin Extended with all Vietnamese
/// letters, Greek, Cyrillic) that normalises to exactly one character in each view, so the
/// common case skips the normaliser; `'\0'` marks the others, which take the slow path.
/// Built once by the slow path itself, so both paths agree by construction.
fn fast_table() -> &'static [(char, char)] {
    static TABLE: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0u32..0x2000)
            .map(|cp| {
                let Some(c) = char::from_u32(cp) else {
                    return ('\0', '\0');
                };
                if is_combining_mark(c) {
                    return ('\0', '\0');
                }
                let marked: Vec<char> = std::iter::once(c)
                    .nfkc()
                    .flat_map(char::to_lowercase)
                    .collect();
                let [m] = marked[..] else {
                    return ('\0', '\0');
                };
                let plain: Vec<char> = std::iter::once(m)
                    .nfd()
                    .filter(|p| !is_combining_mark(*p))
                    .map(|p| if p == 'đ' { 'd' } else { p })
                    .collect();
                match plain[..] {
                    [p] if m != '\0' => (m, p),
                    _ => ('\0', '\0'),
                }
            })
            .collect()
    })
}

/// Tokenises one text (segment 0).
pub fn tokenize(text: &str) -> Tokens {
    let mut t = Tokens::default();
    t.push_segment(text, 0);
    t
}

/// Whether a text contains Vietnamese diacritics (or `đ`): the evaluation groups
/// Vietnamese text by it.
pub fn has_vietnamese_marks(text: &str) -> bool {
    text.nfd().any(|c| {
        matches!(c, 'đ' | 'Đ')
            || matches!(
                c,
                '\u{0300}' | '\u{0301}' | '\u{0303}' | '\u{0309}' | '\u{0323}'
            )
            || matches!(c, '\u{0302}' | '\u{0306}' | '\u{031B}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &Tokens, plain: bool) -> Vec<String> {
        t.tokens
            .iter()
            .map(|k| {
                if plain {
                    t.plain(k).iter().collect()
                } else {
                    t.marked(k).iter().collect()
                }
            })
            .collect()
    }

    #[test]
    fn two_views_of_vietnamese() {
        let t = tokenize("Đầu Tư 30%/tháng, LỢI NHUẬN!");
        assert_eq!(
            words(&t, false),
            ["đầu", "tư", "00", "%", "tháng", "lợi", "nhuận"]
        );
        assert_eq!(
            words(&t, true),
            ["dau", "tu", "00", "%", "thang", "loi", "nhuan"]
        );
    }

    #[test]
    fn nfd_input_gives_the_same_views_and_spans_count_input_chars() {
        let nfc = "Liên hệ";
        let nfd: String = nfc.nfd().collect();
        let a = tokenize(nfc);
        let b = tokenize(&nfd);
        assert_eq!(a.marked, b.marked);
        assert_eq!(a.plain, b.plain);
        // The spans index characters of each input as written.
        assert_eq!(a.tokens[1].chars, 5..7);
        let nfd_chars: Vec<char> = nfd.chars().collect();
        let r = b.tokens[1].chars.clone();
        let s: String = nfd_chars[r].iter().collect();
        assert_eq!(s.nfc().collect::<String>(), "hệ");
    }

    #[test]
    fn full_width_digits_and_obfuscation() {
        let t = tokenize("z.a.l.o ０９１２ s.t.k 🔥09🔥12");
        assert_eq!(
            words(&t, true),
            ["z", "a", "l", "o", "0000", "s", "t", "k", "00", "00"]
        );
    }

    #[test]
    fn empty_and_symbol_only_text() {
        assert!(tokenize("").tokens.is_empty());
        assert!(tokenize("... !!! 🔥").tokens.is_empty());
        assert_eq!(words(&tokenize("@@"), false), ["@", "@"]);
    }

    #[test]
    fn fast_path_agrees_with_the_normaliser() {
        // Every Vietnamese letter, upper and lower case, with both tone placements.
        let letters = "aàáạảãâầấậẩẫăằắặẳẵeèéẹẻẽêềếệểễiìíịỉĩoòóọỏõôồốộổỗơờớợởỡuùúụủũưừứựửữyỳýỵỷỹđ";
        let text: String = letters
            .chars()
            .chain(letters.to_uppercase().chars())
            .collect();
        let nfd: String = text.nfd().collect();
        let fast = tokenize(&text);
        // NFD input never takes the fast path (every letter is followed by a mark).
        let slow = tokenize(&nfd);
        assert_eq!(fast.marked, slow.marked);
        assert_eq!(fast.plain, slow.plain);
    }

    #[test]
    fn marks_detected() {
        assert!(has_vietnamese_marks("Đau"));
        assert!(has_vietnamese_marks("lợi"));
        assert!(!has_vietnamese_marks("loi nhuan cao"));
        assert!(!has_vietnamese_marks("guaranteed profit"));
    }
}
