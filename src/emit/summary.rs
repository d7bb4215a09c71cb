//! Counts kept while files are reported, and the sentences that end a run. Every count of
//! fixes comes from the same place ([`Totals::add`]), so `check`, `--diff` and `--fix`
//! agree: what `check` calls fixable is what `--diff` would fix and `--fix` fixes, unless
//! they say why not.

use std::collections::BTreeMap;

use crate::fix::Applicability;
use crate::rule::{Diagnostic, Severity};

/// One rule's share of a run (for `--statistics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCount {
    /// The highest severity it was reported with.
    pub severity: Option<Severity>,
    pub count: usize,
    pub safe_fixes: usize,
    pub unsafe_fixes: usize,
}

/// What a run reported so far.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub files: usize,
    pub files_with_problems: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub safe_fixes: usize,
    pub unsafe_fixes: usize,
    pub rules: BTreeMap<&'static str, RuleCount>,
    /// Problems fixed (`--fix`) or that would be (`--diff`), and in how many files.
    pub fixed: usize,
    pub files_fixed: usize,
    /// Paths that could not be linted (reported as errors when they happened).
    pub failed: usize,
}

impl Totals {
    /// Counts one file: the diagnostics shown for it, and the problems fixes removed.
    pub fn add(&mut self, diagnostics: &[Diagnostic], fixed: usize) {
        self.files += 1;
        self.fixed += fixed;
        if fixed > 0 {
            self.files_fixed += 1;
        }
        if !diagnostics.is_empty() {
            self.files_with_problems += 1;
        }
        // A rule's findings are looked up once per run of them: a big file's millions of
        // findings are mostly of one rule, one after another.
        for run in diagnostics.chunk_by(|a, b| a.rule == b.rule) {
            let rule = self.rules.entry(run[0].rule).or_default();
            rule.count += run.len();
            for d in run {
                match d.severity {
                    Severity::Error => self.errors += 1,
                    Severity::Warning => self.warnings += 1,
                    Severity::Info => self.infos += 1,
                }
                rule.severity = rule.severity.max(Some(d.severity));
                match d.fix.as_ref().map(|f| f.applicability) {
                    Some(Applicability::Safe) => {
                        self.safe_fixes += 1;
                        rule.safe_fixes += 1;
                    }
                    Some(Applicability::Unsafe) => {
                        self.unsafe_fixes += 1;
                        rule.unsafe_fixes += 1;
                    }
                    None => {}
                }
            }
        }
    }

    pub fn problems(&self) -> usize {
        self.errors + self.warnings + self.infos
    }

    /// "4 warnings, 10 info"
    fn by_severity(&self) -> String {
        let mut parts = Vec::new();
        for (n, name) in [
            (self.errors, "error"),
            (self.warnings, "warning"),
            (self.infos, "info"),
        ] {
            if n > 0 {
                let plural = if n > 1 && name != "info" { "s" } else { "" };
                parts.push(format!("{n} {name}{plural}"));
            }
        }
        parts.join(", ")
    }

    /// "Found 14 problems (4 warnings, 10 info) in 4 of 5 files."
    fn found(&self) -> String {
        if self.problems() == 0 {
            return format!("No problems found in {}.", count(self.files, "file"));
        }
        format!(
            "Found {} ({}) in {} of {}.",
            count(self.problems(), "problem"),
            self.by_severity(),
            self.files_with_problems,
            count(self.files, "file")
        )
    }

    /// What fixes are on offer beyond those `applied` (the lowest applicability used).
    fn offered(&self, applied: Option<Applicability>) -> String {
        let safe = match applied {
            None => self.safe_fixes,
            Some(_) => 0,
        };
        let unsafe_ = match applied {
            Some(Applicability::Unsafe) => 0,
            _ => self.unsafe_fixes,
        };
        match (safe, unsafe_) {
            (0, 0) => String::new(),
            (safe, 0) => format!(" {safe} fixable with `--fix`."),
            (0, n) => format!(
                " {n} {}fixable with `--fix --unsafe-fixes` ({}).",
                if self.fixed > 0 { "more " } else { "" },
                self.unsafe_rules()
            ),
            (safe, n) => format!(
                " {safe} fixable with `--fix`; {n} more with `--fix --unsafe-fixes` ({}).",
                self.unsafe_rules()
            ),
        }
    }

    /// "unsafe: rule-a, rule-b"
    fn unsafe_rules(&self) -> String {
        let names: Vec<&str> = self
            .rules
            .iter()
            .filter(|(_, r)| r.unsafe_fixes > 0)
            .map(|(name, _)| *name)
            .collect();
        format!("unsafe: {}", names.join(", "))
    }

    fn failures(&self) -> String {
        match self.failed {
            0 => String::new(),
            n => format!(
                " {} could not be linted (see the errors above).",
                count(n, "path")
            ),
        }
    }

    /// The last line of `check`.
    pub fn check_summary(&self) -> String {
        format!(
            "{}{}{}\n",
            self.found(),
            self.offered(None),
            self.failures()
        )
    }

    /// The last line of `check --fix`; `min` is the lowest applicability applied.
    pub fn fix_summary(&self, min: Applicability) -> String {
        if self.fixed == 0 {
            return format!(
                "{}{}{}\n",
                self.found(),
                self.offered(Some(min)),
                self.failures()
            );
        }
        let remaining = match self.problems() {
            0 => " No problems remain.".to_string(),
            n => format!(
                " {} {} ({}).",
                count(n, "problem"),
                if n == 1 { "remains" } else { "remain" },
                self.by_severity()
            ),
        };
        format!(
            "Fixed {} in {} of {}.{remaining}{}{}\n",
            count(self.fixed, "problem"),
            self.files_fixed,
            count(self.files, "file"),
            self.offered(Some(min)),
            self.failures()
        )
    }

    /// The line after `check --diff`'s diff (`self` counts the diagnostics before fixing).
    pub fn diff_summary(&self, min: Applicability) -> String {
        let apply = match min {
            Applicability::Safe => "`docklint check --fix`",
            Applicability::Unsafe => "`docklint check --fix --unsafe-fixes`",
        };
        let head = match self.fixed {
            0 => format!("Nothing to fix in {}.", count(self.files, "file")),
            n => format!(
                "Would fix {} in {} of {}; apply with {apply}.",
                count(n, "problem"),
                self.files_fixed,
                count(self.files, "file"),
            ),
        };
        let more = match min {
            Applicability::Safe if self.unsafe_fixes > 0 => format!(
                " {} more with `--unsafe-fixes` ({}).",
                self.unsafe_fixes,
                self.unsafe_rules()
            ),
            _ => String::new(),
        };
        format!("{head}{more}{}\n", self.failures())
    }
}

/// "1 file", "2 files"
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{Edit, Fix};

    fn diagnostic(rule: &'static str, severity: Severity, fix: Option<Fix>) -> Diagnostic {
        Diagnostic {
            rule,
            severity,
            span: 0..0,
            message: "".into(),
            help: None,
            labels: Default::default(),
            anchors: Default::default(),
            fix,
        }
    }

    #[test]
    fn the_summary_names_unsafe_fixes_and_counts_agree() {
        let mut totals = Totals::default();
        totals.add(
            &[
                diagnostic(
                    "a-rule",
                    Severity::Warning,
                    Some(Fix::safe("t", vec![Edit::insert(0, "x")])),
                ),
                diagnostic(
                    "b-rule",
                    Severity::Info,
                    Some(Fix::unsafe_("t", vec![Edit::insert(0, "x")])),
                ),
                diagnostic("c-rule", Severity::Info, None),
            ],
            0,
        );
        totals.add(&[], 0);
        assert_eq!(
            totals.check_summary(),
            "Found 3 problems (1 warning, 2 info) in 1 of 2 files. 1 fixable with `--fix`; \
             1 more with `--fix --unsafe-fixes` (unsafe: b-rule).\n"
        );
    }
}
