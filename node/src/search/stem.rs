//! A stemmer that remembers the words it stemmed. A language's words repeat — a few
//! thousand make most of any text — and Snowball stemming a word costs about as much as
//! the rest of indexing it: profiling a catch-up put a third of the indexer's time in the
//! stemmer. Each analyzer keeps the stems of the first [`CACHE_WORDS`] words it meets
//! (tantivy gives every new segment a fresh analyzer, so a cache lives one segment at
//! most); the stems are the Snowball stemmer's, word for word
//! (`tests::the_cache_stems_as_the_snowball_stemmer_does`).

use std::collections::HashMap;

use frostem::{Algorithm, Stemmer};
use tantivy::tokenizer::{Language, Token, TokenFilter, TokenStream, Tokenizer};

/// Words whose stems an analyzer keeps (bounded memory: about 3 MiB at the most).
#[cfg(not(test))]
const CACHE_WORDS: usize = 50_000;
/// Small in tests, so that the words past it are stemmed as well.
#[cfg(test)]
const CACHE_WORDS: usize = 8;

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
            stems: HashMap::new(),
        }
    }
}

/// The filter over a tokenizer, holding the cache.
#[derive(Clone)]
pub(super) struct CachedStemmerFilter<T> {
    inner: T,
    stemmer: Stemmer,
    /// Word → stem.
    stems: HashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemStream {
            tail: self.inner.token_stream(text),
            stemmer: self.stemmer,
            stems: &mut self.stems,
        }
    }
}

/// The tokens of one text, stemmed.
pub(super) struct CachedStemStream<'a, S> {
    tail: S,
    stemmer: Stemmer,
    stems: &'a mut HashMap<String, String>,
}

impl<S: TokenStream> TokenStream for CachedStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.stems.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(&token.text).into_owned();
        if self.stems.len() < CACHE_WORDS {
            self.stems
                .insert(std::mem::take(&mut token.text), stem.clone());
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
}
