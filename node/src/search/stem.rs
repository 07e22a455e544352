//! A stemmer that remembers the words it stemmed. A language's words repeat — a few
//! thousand make most of any text — and Snowball stemming a word costs about as much as
//! the rest of indexing it: profiling a catch-up put a third of the indexer's time in the
//! stemmer. Each language's stemmer keeps the stems of the first [`CACHE_WORDS`] words it
//! meets, for as long as the process runs: tantivy gives every new segment (one a commit)
//! a clone of the analyzer, and the clones share the cache, so a word is stemmed once, not
//! once a segment. Tokens with digits are stemmed without it: numbers and case numbers
//! are seldom met twice, and a catch-up's filled the cache with them, making every lookup
//! of a real word a miss in the processor's caches. The stems are the Snowball stemmer's,
//! word for word (`tests::the_cache_stems_as_the_snowball_stemmer_does`).

use std::{
    borrow::Cow,
    sync::{Arc, Mutex, MutexGuard, TryLockError},
};

use foldhash::{HashMap, HashMapExt as _};
use frostem::{Algorithm, Stemmer};
use tantivy::tokenizer::{Language, Token, TokenFilter, TokenStream, Tokenizer};

/// Words whose stems a language's cache keeps (bounded memory: about 3 MiB at the most).
#[cfg(not(test))]
const CACHE_WORDS: usize = 50_000;
/// Small in tests, so that the words past it are stemmed as well.
#[cfg(test)]
const CACHE_WORDS: usize = 8;

/// Word → stem, shared by the clones of one analyzer.
type Stems = Arc<Mutex<HashMap<String, String>>>;

/// The Snowball stemmer of `language`, with a cache: a token filter for
/// [`tantivy::tokenizer::TextAnalyzer`], in place of tantivy's `Stemmer`.
#[derive(Clone, Copy)]
pub(super) struct CachedStemmer(Algorithm);

impl CachedStemmer {
    /// The stemmer of one of the languages the index stems.
    pub(super) fn new(language: Language) -> Self {
        Self(match language {
            Language::Spanish => Algorithm::Spanish,
            Language::French => Algorithm::French,
            Language::Portuguese => Algorithm::Portuguese,
            _ => Algorithm::English,
        })
    }
}

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner,
            stemmer: Stemmer::new(self.0),
            stems: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

/// The filter over a tokenizer, holding the cache.
#[derive(Clone)]
pub(super) struct CachedStemmerFilter<T> {
    inner: T,
    stemmer: Stemmer,
    stems: Stems,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemStream<'a, T::TokenStream<'a>>;

    /// Holds the cache for the text's tokens (one lock a text, not a word); a clone
    /// streaming on another thread meanwhile (a query while records are indexed) stems
    /// without it rather than wait.
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let stems = match self.stems.try_lock() {
            Ok(stems) => Some(stems),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        CachedStemStream {
            tail: self.inner.token_stream(text),
            stemmer: self.stemmer,
            stems,
        }
    }
}

/// The tokens of one text, stemmed.
pub(super) struct CachedStemStream<'a, S> {
    tail: S,
    stemmer: Stemmer,
    stems: Option<MutexGuard<'a, HashMap<String, String>>>,
}

impl<S: TokenStream> TokenStream for CachedStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let numeric = token.text.bytes().any(|b| b.is_ascii_digit());
        let Some(stems) = self.stems.as_mut().filter(|_| !numeric) else {
            // Without the cache, and for tokens with digits (numbers, dates, case numbers:
            // seldom met twice, they would fill the cache and push its words out of the
            // processor's caches); digits alone are no word and stem to themselves.
            if !token.text.bytes().all(|b| b.is_ascii_digit())
                && let Cow::Owned(stem) = self.stemmer.stem(&token.text)
            {
                token.text = stem;
            }
            return true;
        };
        if let Some(stem) = stems.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(&token.text).into_owned();
        if stems.len() < CACHE_WORDS {
            stems.insert(std::mem::take(&mut token.text), stem.clone());
        }
        token.text = stem;
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{
        LowerCaser, SimpleTokenizer, Stemmer as TantivyStemmer, TextAnalyzer,
    };

    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = vec![];
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    #[test]
    fn the_cache_stems_as_the_snowball_stemmer_does() {
        let texts = [
            (
                Language::English,
                "Traffickers recruiting victims through fraudulent job offers; recruited victims were trafficked, recruiters arrested",
            ),
            (
                Language::Spanish,
                "Las víctimas de trata fueron rescatadas; los tratantes reclutaban víctimas con ofertas falsas de empleo",
            ),
            (
                Language::French,
                "Les victimes de la traite ont été secourues; les trafiquants recrutaient des victimes avec de fausses offres",
            ),
            (
                Language::Portuguese,
                "As vítimas de tráfico foram resgatadas; os traficantes recrutavam vítimas com ofertas falsas de emprego",
            ),
        ];
        for (language, text) in texts {
            let build = |cached: bool| {
                let b = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser);
                if cached {
                    b.filter(CachedStemmer::new(language)).build()
                } else {
                    b.filter(TantivyStemmer::new(language)).build()
                }
            };
            let (mut cached, mut plain) = (build(true), build(false));
            let want = tokens(&mut plain, text);
            assert!(want.len() > CACHE_WORDS, "the text fills the cache");
            // Twice: first the words are stemmed, then (the first CACHE_WORDS) read back.
            assert_eq!(tokens(&mut cached, text), want, "{language:?}, first pass");
            assert_eq!(tokens(&mut cached, text), want, "{language:?}, second pass");
            let words: Vec<String> = text
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_lowercase)
                .collect();
            assert!(
                want.iter().any(|(w, ..)| !words.contains(w)),
                "{language:?}: some words were stemmed"
            );
        }
    }

    #[test]
    fn tokens_with_digits_stem_as_snowball_does_and_stay_out_of_the_cache() {
        let text = "2024 1990s covid19 A-123 0042 cases 123456 víctimas 3rd";
        for language in [
            Language::English,
            Language::Spanish,
            Language::French,
            Language::Portuguese,
        ] {
            let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(TantivyStemmer::new(language))
                .build();
            let mut cached = CachedStemmer::new(language)
                .transform(LowerCaser.transform(SimpleTokenizer::default()));
            let probe = cached.clone();
            let want = tokens(&mut plain, text);
            let mut got = vec![];
            let mut stream = cached.token_stream(text);
            while stream.advance() {
                let t = stream.token();
                got.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
            }
            drop(stream);
            assert_eq!(got, want, "{language:?}");
            let kept = probe.stems.lock().expect("not poisoned");
            assert!(
                kept.keys().all(|w| !w.bytes().any(|b| b.is_ascii_digit())),
                "{language:?}: tokens with digits in the cache: {kept:?}"
            );
            assert!(
                kept.contains_key("cases"),
                "{language:?}: words are still cached"
            );
        }
    }

    #[test]
    fn the_clones_of_an_analyzer_share_one_cache() {
        // tantivy clones the analyzer for each segment: a word stemmed in one is known to
        // the next.
        let mut first = CachedStemmer::new(Language::English).transform(SimpleTokenizer::default());
        let second = first.clone();
        let mut stream = first.token_stream("recruiting recruiters");
        while stream.advance() {}
        drop(stream);
        let cached = second.stems.lock().expect("not poisoned");
        assert_eq!(
            cached.get("recruiting").map(String::as_str),
            Some("recruit")
        );
        assert_eq!(cached.len(), 2);
    }

    #[test]
    fn a_stream_started_while_another_holds_the_cache_still_stems() {
        let mut first = CachedStemmer::new(Language::English).transform(SimpleTokenizer::default());
        let mut second = first.clone();
        let _held = first.token_stream("victims");
        let mut stream = second.token_stream("recruiting");
        assert!(stream.advance());
        assert_eq!(stream.token().text, "recruit");
    }
}
