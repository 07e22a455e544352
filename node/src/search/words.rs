//! The words of a text, in one pass: what tantivy's `SimpleTokenizer` (runs of
//! alphanumeric characters), `RemoveLongFilter` and `LowerCaser` make of it, token for
//! token — text, offsets and positions alike (`tests::the_words_are_tantivys_token_for_token`)
//! — at about half their cost. Indexing is most of what the search index costs a catch-up,
//! and the three filters were an eighth of tantivy's indexing thread: each token was read
//! once to find it, copied, checked for its length, checked for ASCII, then lowercased. Here
//! an ASCII word is lowercased as it is copied; any other is lowercased character by
//! character as `LowerCaser` does.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The tokenizer: words of fewer than `max_bytes` bytes, lowercased.
#[derive(Clone)]
pub(super) struct Words {
    token: Token,
    max_bytes: usize,
}

impl Words {
    /// Words of fewer than `max_bytes` bytes (as `RemoveLongFilter::limit(max_bytes)`).
    pub(super) fn shorter_than(max_bytes: usize) -> Self {
        Self {
            token: Token::default(),
            max_bytes,
        }
    }
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            at: 0,
            max_bytes: self.max_bytes,
            token: &mut self.token,
        }
    }
}

/// The words of one text.
pub(super) struct WordStream<'a> {
    text: &'a str,
    /// Where the next word is looked for.
    at: usize,
    max_bytes: usize,
    token: &'a mut Token,
}

impl WordStream<'_> {
    /// Whether the character at byte `i` (not ASCII) is part of a word, and its length.
    #[inline(never)]
    fn other_char(&self, i: usize) -> (bool, usize) {
        let c = self.text[i..]
            .chars()
            .next()
            .expect("i is a character boundary");
        (c.is_alphanumeric(), c.len_utf8())
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        let len = bytes.len();
        loop {
            // The next word's start: past what is no word.
            let mut start = self.at;
            loop {
                let Some(&b) = bytes.get(start) else {
                    self.at = len;
                    return false;
                };
                if b.is_ascii() {
                    if b.is_ascii_alphanumeric() {
                        break;
                    }
                    start += 1;
                } else {
                    let (word, n) = self.other_char(start);
                    if word {
                        break;
                    }
                    start += n;
                }
            }
            let (mut end, mut ascii) = (start, true);
            while let Some(&b) = bytes.get(end) {
                if b.is_ascii() {
                    if !b.is_ascii_alphanumeric() {
                        break;
                    }
                    end += 1;
                } else {
                    let (word, n) = self.other_char(end);
                    if !word {
                        break;
                    }
                    ascii = false;
                    end += n;
                }
            }
            self.at = end;
            // A word too long is dropped but keeps its position, as with the filter.
            self.token.position = self.token.position.wrapping_add(1);
            if end - start >= self.max_bytes {
                continue;
            }
            let word = &self.text[start..end];
            self.token.offset_from = start;
            self.token.offset_to = end;
            self.token.text.clear();
            if ascii {
                self.token.text.push_str(word);
                self.token.text.make_ascii_lowercase();
            } else {
                // Character by character, as `LowerCaser` (no final-sigma rule).
                for c in word.chars() {
                    self.token.text.extend(c.to_lowercase());
                }
            }
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

    use super::*;

    type Tokens = Vec<(String, usize, usize, usize)>;

    fn tokens<T: Tokenizer>(tokenizer: &mut T, text: &str) -> Tokens {
        let mut stream = tokenizer.token_stream(text);
        let mut out = vec![];
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    /// Texts of characters drawn from words, digits, punctuation, accents, other scripts
    /// and characters whose lower case is longer (`İ`), by a small fixed generator.
    fn texts() -> Vec<String> {
        let (long, long_accented) = ("x".repeat(70), "é".repeat(40));
        let pieces = [
            "a",
            "Z",
            "q",
            "7",
            "0",
            " ",
            "  ",
            ",",
            ".",
            "-",
            "'",
            "\n",
            "é",
            "É",
            "ç",
            "Ñ",
            "ß",
            "İ",
            "Σ",
            "ς",
            "Ω",
            "ж",
            "Ж",
            "馬",
            "東京",
            "ي",
            "٣",
            "🙂",
            "\u{301}",
            "ŉ",
            "recruitment",
            "AGENCY",
            "Tráfico",
            &long,
            &long_accented,
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        (0..4000)
            .map(|i| {
                let mut text = String::new();
                for _ in 0..(i % 40) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
                }
                text
            })
            .collect()
    }

    #[test]
    fn the_words_are_tantivys_token_for_token() {
        for max in [64, 3] {
            let mut theirs = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(max))
                .filter(LowerCaser)
                .build();
            let mut ours = Words::shorter_than(max);
            let mut words = 0;
            for text in texts() {
                let want = {
                    let mut stream = theirs.token_stream(&text);
                    let mut out = vec![];
                    while let Some(t) = stream.next() {
                        out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
                    }
                    out
                };
                words += want.len();
                assert_eq!(tokens(&mut ours, &text), want, "{text:?}, max {max}");
            }
            assert!(words > 2_000, "the texts hold words: {words}");
        }
    }

    #[test]
    fn a_word_too_long_is_dropped_and_keeps_its_place() {
        let text = format!("short {} after", "y".repeat(64));
        let got = tokens(&mut Words::shorter_than(64), &text);
        assert_eq!(
            got,
            [("short".into(), 0, 0, 5), ("after".into(), 2, 71, 76)]
        );
    }
}
