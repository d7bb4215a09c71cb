//! The text of a diagnostic (its message, help, labels and fix title), and the shared
//! strings the model keeps for every instruction.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

/// Most texts are fixed sentences, kept without a copy; the others are made for their
/// diagnostic and, once [`Texts::share`] has seen them, shared by every diagnostic that says
/// the same. A file may have millions of diagnostics, and a rule says the same few things of
/// most of them (the help of a pip install without a cache mount is 400 bytes).
#[derive(Clone)]
pub struct Text(Repr);

/// 16 bytes: a made text is a [`SharedStr`], a thin pointer that fits beside the fixed
/// text's. With an `Arc<str>` every text, and so a diagnostic's message, labels and fix
/// title, would be 8 bytes bigger.
#[derive(Clone)]
enum Repr {
    Fixed(&'static str),
    Made(SharedStr),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Fixed(text) => text,
            Repr::Made(text) => text,
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Text {
        Text(Repr::Fixed(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(Repr::Made(text.into()))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A shared string one word wide, where an `Arc<str>` is two: for what a file has millions
/// of (the paths the model keeps for every instruction and command, diagnostics' texts).
/// It hashes and compares as its `str`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SharedStr(Arc<String>);

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> SharedStr {
        SharedStr(Arc::new(text.to_string()))
    }
}

impl From<String> for SharedStr {
    fn from(text: String) -> SharedStr {
        SharedStr(Arc::new(text))
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

/// The texts made during one lint, each kept once.
#[derive(Default)]
pub struct Texts {
    seen: Mutex<foldhash::HashSet<SharedStr>>,
}

/// Distinct texts kept per lint: past them, new ones stay unshared (a rule that says
/// something different of each item would only fill the set).
const MAX_TEXTS: usize = 4096;

impl Texts {
    /// Makes `text` the copy seen first of its words, if it was made for its diagnostic.
    pub fn share(&self, text: &mut Text) {
        let Repr::Made(made) = &text.0 else {
            return;
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        match seen.get(&**made) {
            Some(first) => text.0 = Repr::Made(first.clone()),
            None if seen.len() < MAX_TEXTS => {
                seen.insert(made.clone());
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_two_words() {
        assert_eq!(std::mem::size_of::<Text>(), 16);
    }

    fn same_copy(a: &Text, b: &Text) -> bool {
        std::ptr::eq(a.as_str().as_ptr(), b.as_str().as_ptr())
    }

    #[test]
    fn texts_that_say_the_same_share_one_copy() {
        let texts = Texts::default();
        let mut first = Text::from(format!("pip keeps its {} in {}", "packages", "/root"));
        let mut second = Text::from("pip keeps its packages in /root".to_string());
        let mut other = Text::from("pip keeps its packages in /home/app".to_string());
        assert!(!same_copy(&first, &second));
        for text in [&mut first, &mut second, &mut other] {
            texts.share(text);
        }
        assert!(same_copy(&first, &second));
        assert!(!same_copy(&first, &other));
        assert_eq!(second, "pip keeps its packages in /root");
        assert_eq!(other, "pip keeps its packages in /home/app");
    }

    #[test]
    fn past_the_limit_new_texts_stay_their_own() {
        let texts = Texts::default();
        for i in 0..MAX_TEXTS {
            texts.share(&mut Text::from(i.to_string()));
        }
        let (mut a, mut b) = (Text::from("new".to_string()), Text::from("new".to_string()));
        texts.share(&mut a);
        texts.share(&mut b);
        assert!(!same_copy(&a, &b));
        // Those seen before the limit are still shared.
        let (mut c, mut d) = (Text::from("7".to_string()), Text::from("7".to_string()));
        texts.share(&mut c);
        texts.share(&mut d);
        assert!(same_copy(&c, &d));
    }
}
