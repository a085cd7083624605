//! The keyword-rules baseline: weighted cue phrases per label (paraphrased cue families
//! from `shared/docs/scam-taxonomy.md`), matched on folded text at word boundaries.
//! Fraud classes also share generic pressure cues (payment, off-platform contact); the
//! benign class has a prior plus cues of warnings and news *about* scams, the hard
//! negatives. Scores go through a softmax; the probabilities are not calibrated, which is
//! one reason a trained model replaces this as the default.

use crate::fold::{Folded, fold};
use crate::{BENIGN, Classifier, ClassifierError, Input, LABELS, Prediction, Span};

/// Weighted cues: (phrase, label index, weight). Label 5 means "every fraud label".
const CUES: &[(&str, usize, f32)] = &[
    // investment_fraud
    ("cam kết lợi nhuận", 0, 3.0),
    ("lợi nhuận", 0, 1.0),
    ("mỗi ngày", 0, 0.5),
    ("%/ngày", 0, 2.5),
    ("% mỗi ngày", 0, 2.0),
    ("hoàn vốn", 0, 2.0),
    ("bao lỗ", 0, 2.5),
    ("không lỗ", 0, 2.0),
    ("không rủi ro", 0, 2.0),
    ("sàn giao dịch", 0, 1.0),
    ("đọc lệnh", 0, 2.5),
    ("tín hiệu", 0, 1.0),
    ("chuyên gia", 0, 0.8),
    ("usdt", 0, 2.0),
    ("trc20", 0, 2.0),
    ("nâng cấp vip", 0, 2.0),
    ("gói vip", 0, 1.5),
    ("phí rút", 0, 2.5),
    ("phí xác minh", 0, 2.0),
    ("forex", 0, 1.0),
    ("giấy phép", 0, 0.8),
    ("đầu tư", 0, 1.0),
    ("x2 tài khoản", 0, 2.5),
    ("guaranteed profit", 0, 3.0),
    ("daily return", 0, 2.5),
    ("withdrawal fee", 0, 2.5),
    // job_scam
    ("việc nhẹ lương cao", 1, 3.0),
    ("làm nhiệm vụ", 1, 2.5),
    ("nhiệm vụ", 1, 1.5),
    ("hoa hồng", 1, 1.5),
    ("ctv", 1, 1.5),
    ("cộng tác viên", 1, 1.5),
    ("chốt đơn", 1, 2.0),
    ("thả tim", 1, 2.0),
    ("làm tại nhà", 1, 1.5),
    ("không cần kinh nghiệm", 1, 1.2),
    ("phí giữ chỗ", 1, 3.0),
    ("phí đồng phục", 1, 3.0),
    ("đặt cọc visa", 1, 3.0),
    ("xuất khẩu lao động", 1, 1.5),
    ("không cần tiếng", 1, 2.0),
    ("nạp tiền", 1, 1.0),
    ("tuyển ctv", 1, 2.0),
    ("thu nhập", 1, 0.8),
    ("work from home", 1, 1.5),
    ("easy job", 1, 2.0),
    // impersonation
    ("sinh trắc học", 2, 2.0),
    ("sẽ bị khóa", 2, 3.0),
    ("bị khóa", 2, 1.5),
    ("xác thực", 2, 1.5),
    ("otp", 2, 1.5),
    ("mật khẩu", 2, 1.5),
    ("vneid", 2, 1.5),
    ("dịch vụ công", 2, 1.5),
    ("tải app", 2, 2.0),
    ("apk", 2, 2.5),
    ("trợ năng", 2, 2.5),
    ("lệnh bắt", 2, 2.5),
    ("rửa tiền", 2, 2.0),
    ("tài khoản tạm giữ", 2, 3.0),
    ("cập nhật dữ liệu", 2, 1.5),
    ("trong 24h", 2, 2.0),
    ("account will be locked", 2, 3.0),
    ("verify your account", 2, 2.5),
    // other_fraud
    ("trúng thưởng", 3, 2.5),
    ("quà tri ân", 3, 2.0),
    ("phí nhận thưởng", 3, 3.0),
    ("vay nhanh", 3, 2.0),
    ("không thế chấp", 3, 2.0),
    ("giải ngân", 3, 1.5),
    ("lấy lại tiền", 3, 2.5),
    ("phí hải quan", 3, 2.5),
    ("thuê tài khoản", 3, 3.0),
    ("mua bán tài khoản", 3, 2.5),
    ("giá sốc", 3, 1.5),
    // shared pressure cues of every fraud type
    ("chuyển khoản", 5, 0.8),
    ("số tài khoản", 5, 1.0),
    ("stk", 5, 1.0),
    ("zalo", 5, 0.6),
    ("telegram", 5, 0.6),
    ("t.me", 5, 0.6),
    ("inbox", 5, 0.6),
    ("ib", 5, 0.6),
    ("cskh", 5, 1.0),
    ("nội dung chuyển khoản", 5, 1.0),
    ("ngay hôm nay", 5, 0.6),
    ("số lượng có hạn", 5, 1.0),
    // benign: warnings, reporting and news about scams (hard negatives)
    ("cảnh báo", BENIGN, 2.5),
    ("khuyến cáo", BENIGN, 2.5),
    ("thủ đoạn", BENIGN, 2.5),
    ("đối tượng", BENIGN, 1.5),
    ("lừa đảo", BENIGN, 1.2),
    ("công an tỉnh", BENIGN, 1.5),
    ("bắt giữ", BENIGN, 2.0),
    ("khởi tố", BENIGN, 2.5),
    ("đề nghị người dân", BENIGN, 2.5),
    ("người dân", BENIGN, 1.0),
    ("tố giác", BENIGN, 2.0),
    ("trình báo", BENIGN, 2.0),
    ("tỉnh táo", BENIGN, 1.5),
    ("không chuyển tiền", BENIGN, 2.0),
    ("không cung cấp", BENIGN, 2.0),
    ("nạn nhân", BENIGN, 2.0),
    ("điều tra", BENIGN, 0.8),
    ("phóng viên", BENIGN, 2.0),
    ("theo thông tin", BENIGN, 1.2),
    ("không thu phí", BENIGN, 2.0),
    ("scam alert", BENIGN, 2.5),
    ("police warn", BENIGN, 2.5),
    ("beware", BENIGN, 2.0),
];

/// Score the benign class starts with: plain text with no cues is benign.
const BENIGN_PRIOR: f32 = 2.0;
/// Softmax temperature.
const TEMPERATURE: f32 = 1.5;
/// Repeats of one cue count with diminishing weight, up to this many.
const MAX_REPEATS: usize = 3;
/// Most explanation spans kept per prediction.
const MAX_SPANS: usize = 12;

/// The keyword-rules baseline classifier.
#[derive(Debug)]
pub struct KeywordRules {
    cues: Vec<(String, usize, f32)>,
}

impl Default for KeywordRules {
    fn default() -> Self {
        Self::new()
    }
}

impl KeywordRules {
    pub const NAME: &'static str = "keyword-rules";
    pub const VERSION: &'static str = "1";

    pub fn new() -> Self {
        Self {
            cues: CUES.iter().map(|(p, l, w)| (fold(p), *l, *w)).collect(),
        }
    }

    pub fn classify_one(&self, input: &Input<'_>) -> Prediction {
        let title = input.title.unwrap_or("");
        let joined;
        let (text, offset) = if title.is_empty() {
            (input.text, 0)
        } else {
            joined = format!("{title}\n{}", input.text);
            (joined.as_str(), title.len() + 1)
        };
        let folded = Folded::new(text);
        let mut scores = [0f32; 5];
        scores[BENIGN] = BENIGN_PRIOR;
        let mut spans = Vec::new();
        for (phrase, label, weight) in &self.cues {
            let mut hits = 0usize;
            for (at, _) in folded.text.match_indices(phrase.as_str()) {
                if !at_word_boundary(&folded.text, at, phrase.len()) {
                    continue;
                }
                hits += 1;
                if hits > MAX_REPEATS {
                    break;
                }
                let w = weight / hits as f32;
                if *label == 5 {
                    for s in scores.iter_mut().take(BENIGN) {
                        *s += w;
                    }
                } else {
                    scores[*label] += w;
                }
                let start = folded.original_offset(at);
                let end = folded.original_offset(at + phrase.len());
                if hits == 1 && start >= offset {
                    let body = &text[offset..];
                    let chars_before = body[..start - offset].chars().count();
                    let phrase = text[start..end].to_string();
                    spans.push(Span {
                        start: chars_before,
                        end: chars_before + phrase.chars().count(),
                        phrase,
                        label: if *label == 5 { "fraud" } else { LABELS[*label] },
                        weight: *weight,
                    });
                }
            }
        }
        let max = scores.iter().copied().fold(f32::MIN, f32::max);
        let exps: Vec<f32> = scores
            .iter()
            .map(|s| ((s - max) / TEMPERATURE).exp())
            .collect();
        let sum: f32 = exps.iter().sum();
        let mut probabilities = [0f32; 5];
        for (p, e) in probabilities.iter_mut().zip(&exps) {
            *p = e / sum;
        }
        let best = (0..5)
            .max_by(|a, b| probabilities[*a].total_cmp(&probabilities[*b]))
            .unwrap_or(BENIGN);
        spans.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.start.cmp(&b.start)));
        spans.truncate(MAX_SPANS);
        Prediction {
            label: LABELS[best],
            probabilities,
            spans,
        }
    }
}

fn at_word_boundary(text: &str, at: usize, len: usize) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at + len..].chars().next();
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    !is_word(before) && !is_word(after)
}

impl Classifier for KeywordRules {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> &str {
        Self::VERSION
    }

    fn classify_batch(
        &self,
        inputs: &[Input<'_>],
        _explain: bool,
    ) -> Result<Vec<Prediction>, ClassifierError> {
        Ok(inputs.iter().map(|i| self.classify_one(i)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(text: &str) -> Prediction {
        KeywordRules::new().classify_one(&Input { title: None, text })
    }

    #[test]
    fn investment_pitch_with_and_without_diacritics() {
        for t in [
            "Cam kết lợi nhuận 3%/ngày, hoàn vốn 100%, nạp USDT qua ví TRC20, ib Zalo để vào nhóm đọc lệnh",
            "cam ket loi nhuan 3%/ngay, hoan von 100%, nap usdt qua vi trc20, ib zalo de vao nhom doc lenh",
        ] {
            let p = classify(t);
            assert_eq!(p.label, "investment_fraud", "{t}: {p:?}");
            assert!(p.score() > 0.8);
            let s = &p.spans[0];
            let chars: String = t.chars().skip(s.start).take(s.end - s.start).collect();
            assert_eq!(chars, s.phrase);
        }
    }

    #[test]
    fn job_scam_and_impersonation() {
        assert_eq!(
            classify("Tuyển CTV việc nhẹ lương cao, làm nhiệm vụ thả tim nhận hoa hồng, đóng phí giữ chỗ 300k").label,
            "job_scam"
        );
        assert_eq!(
            classify("Tài khoản của quý khách sẽ bị khóa trong 24h. Cập nhật sinh trắc học và nhập mã OTP tại link").label,
            "impersonation"
        );
    }

    #[test]
    fn police_warning_is_benign_and_ordinary_text_too() {
        let w = classify(
            "Công an tỉnh cảnh báo thủ đoạn lừa đảo việc nhẹ lương cao: các đối tượng dụ nạn nhân làm nhiệm vụ. \
             Đề nghị người dân tỉnh táo, không chuyển tiền, trình báo khi phát hiện.",
        );
        assert_eq!(w.label, "benign", "{w:?}");
        assert_eq!(
            classify("Quán cà phê tuyển nhân viên pha chế ca sáng, lương theo giờ").label,
            "benign"
        );
        assert_eq!(classify("").label, "benign");
    }

    #[test]
    fn cues_inside_words_do_not_fire() {
        // "ib" inside "ibis" and "stk" inside "stkx" are not cues.
        let p = classify("ibis hotel stkx");
        assert!(p.spans.is_empty(), "{p:?}");
    }

    #[test]
    fn probabilities_sum_to_one() {
        let p = classify("nạp usdt nhận thưởng");
        let sum: f32 = p.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }
}
