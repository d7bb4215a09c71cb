//! Settings that size a build tool's heap: Node's `--max-old-space-size` (in `NODE_OPTIONS`
//! or on `node`'s command line) and the JVM's `-Xmx` (in `JAVA_TOOL_OPTIONS`, `MAVEN_OPTS`,
//! `GRADLE_OPTS` …, on `java`'s command line, or in Gradle's `org.gradle.jvmargs`), with the
//! programs each one reaches.

/// The runtime whose heap a setting sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Node,
    Jvm,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Node => "Node.js",
            Runtime::Jvm => "the JVM",
        }
    }
}

/// Programs that run on Node.js (and read `NODE_OPTIONS`).
const NODE_PROGRAMS: &[&str] = &[
    "node",
    "nodejs",
    "npm",
    "npx",
    "yarn",
    "yarnpkg",
    "pnpm",
    "pnpx",
    "corepack",
    "next",
    "vite",
    "tsc",
    "webpack",
    "ng",
    "nuxt",
    "react-scripts",
    "remix",
    "astro",
    "esbuild",
    "rollup",
    "turbo",
    "nx",
    "lerna",
];

/// Programs that start a JVM.
const JVM_PROGRAMS: &[&str] = &[
    "java", "mvn", "mvnw", "gradle", "gradlew", "sbt", "ant", "lein", "kotlinc", "scala",
];

/// Environment variables that carry heap settings: (name, runtime, programs that read it;
/// empty for every program of the runtime).
pub const HEAP_VARIABLES: &[(&str, Runtime, &[&str])] = &[
    ("NODE_OPTIONS", Runtime::Node, &[]),
    ("JAVA_TOOL_OPTIONS", Runtime::Jvm, &[]),
    ("_JAVA_OPTIONS", Runtime::Jvm, &[]),
    ("JDK_JAVA_OPTIONS", Runtime::Jvm, &["java"]),
    ("MAVEN_OPTS", Runtime::Jvm, &["mvn", "mvnw"]),
    ("GRADLE_OPTS", Runtime::Jvm, &["gradle", "gradlew"]),
    (
        "JAVA_OPTS",
        Runtime::Jvm,
        &["gradle", "gradlew", "sbt", "lein"],
    ),
    ("SBT_OPTS", Runtime::Jvm, &["sbt"]),
];

/// The runtime `program` (a basename) runs on, if it is one whose heap a setting sizes.
/// Every program a variable of [`HEAP_VARIABLES`] names runs on that variable's runtime, so
/// a program without one reads none of them: most commands are ruled out by this alone.
pub fn runtime_of(program: &str) -> Option<Runtime> {
    if NODE_PROGRAMS.contains(&program) {
        Some(Runtime::Node)
    } else if JVM_PROGRAMS.contains(&program) {
        Some(Runtime::Jvm)
    } else {
        None
    }
}

/// Programs that take heap options on their own command line (`node
/// --max-old-space-size=N`, `java -Xmx8g`, `gradle -Dorg.gradle.jvmargs=-Xmx8g`).
pub const OPTION_READERS: &[&str] = &["node", "nodejs", "java", "gradle", "gradlew"];

/// Whether `program` (a basename), which runs on `runs_on`, reads the variable `(runtime,
/// readers)` of [`HEAP_VARIABLES`].
pub fn reads(program: &str, runs_on: Runtime, (runtime, readers): (Runtime, &[&str])) -> bool {
    runs_on == runtime && (readers.is_empty() || readers.contains(&program))
}

/// The heap size in bytes that an options string sets for `runtime` (the last setting
/// wins, as in both runtimes).
pub fn heap_size(runtime: Runtime, options: &str) -> Option<u64> {
    let words: Vec<&str> = options.split_whitespace().collect();
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        let word = word.trim_matches(['"', '\'']);
        let size = match runtime {
            Runtime::Node => node_heap(word, words.get(i + 1).copied()),
            Runtime::Jvm => jvm_heap(word),
        };
        if size.is_some() {
            found = size;
        }
    }
    found
}

/// `--max-old-space-size=N` (or `--max_old_space_size`, or the value as the next word): N MiB.
fn node_heap(word: &str, next: Option<&str>) -> Option<u64> {
    let rest = word
        .strip_prefix("--max-old-space-size")
        .or_else(|| word.strip_prefix("--max_old_space_size"))?;
    let value = match rest.strip_prefix('=') {
        Some(v) => v,
        None if rest.is_empty() => next?,
        None => return None,
    };
    let mib: u64 = value.trim_matches(['"', '\'']).parse().ok()?;
    mib.checked_mul(1 << 20)
}

/// `-Xmx<size>`, `-XX:MaxHeapSize=<size>`, and `-Dorg.gradle.jvmargs=…-Xmx…`.
fn jvm_heap(word: &str) -> Option<u64> {
    if let Some(args) = word.strip_prefix("-Dorg.gradle.jvmargs=") {
        return heap_size(Runtime::Jvm, &args.replace(['"', '\''], " "));
    }
    let size = word
        .strip_prefix("-Xmx")
        .or_else(|| word.strip_prefix("-XX:MaxHeapSize="))?;
    parse_size(size, 1)
}

/// A size with an optional unit: `8g`, `6144m`, `512k`, `8GiB`, `4 GB`, or a plain number
/// (multiplied by `plain`, the unit of a number without one).
pub fn parse_size(text: &str, plain: u64) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..digits].parse().ok()?;
    let unit = text[digits..].trim().to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "" => plain,
        "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// A size for people: `6 GiB`, `1.5 GiB`, `512 MiB`.
pub fn human(bytes: u64) -> String {
    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;
    if bytes >= GIB {
        let tenths = (bytes * 10 + GIB / 2) / GIB;
        if tenths.is_multiple_of(10) {
            format!("{} GiB", tenths / 10)
        } else {
            format!("{}.{} GiB", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} MiB", bytes.div_ceil(MIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_runs_on_its_variables_runtime() {
        // `runtime_of` rules a program out before any variable is looked at.
        for &(var, runtime, readers) in HEAP_VARIABLES {
            for &reader in readers {
                assert_eq!(runtime_of(reader), Some(runtime), "{var} names {reader}");
                assert!(reads(reader, runtime, (runtime, readers)));
            }
        }
        for program in OPTION_READERS {
            assert!(runtime_of(program).is_some(), "{program}");
        }
        assert_eq!(runtime_of("echo"), None);
        assert!(!reads("npm", Runtime::Node, (Runtime::Jvm, &[])));
        assert!(!reads("java", Runtime::Jvm, (Runtime::Jvm, &["mvn"])));
    }

    #[test]
    fn node_and_jvm_heaps() {
        assert_eq!(
            heap_size(Runtime::Node, "--max-old-space-size=6144"),
            Some(6144 << 20)
        );
        assert_eq!(
            heap_size(
                Runtime::Node,
                "--enable-source-maps --max_old_space_size=2048 --max-old-space-size=8192"
            ),
            Some(8192 << 20)
        );
        assert_eq!(
            heap_size(Runtime::Node, "--max-old-space-size 4096"),
            Some(4096 << 20)
        );
        assert_eq!(heap_size(Runtime::Node, "--max-semi-space-size=64"), None);
        assert_eq!(heap_size(Runtime::Jvm, "-Xms1g -Xmx6g"), Some(6 << 30));
        assert_eq!(
            heap_size(Runtime::Jvm, "-XX:MaxHeapSize=6144m"),
            Some(6144 << 20)
        );
        assert_eq!(
            heap_size(Runtime::Jvm, "-Dorg.gradle.jvmargs=-Xmx8g"),
            Some(8 << 30)
        );
        assert_eq!(heap_size(Runtime::Jvm, "-Xmx2147483648"), Some(2 << 30));
        assert_eq!(heap_size(Runtime::Jvm, "-XX:MaxRAMPercentage=75"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB", 1), Some(4 << 30));
        assert_eq!(parse_size("8g", 1), Some(8 << 30));
        assert_eq!(parse_size("512 MiB", 1), Some(512 << 20));
        assert_eq!(parse_size("4096", 1 << 20), Some(4 << 30));
        assert_eq!(parse_size("4 parsecs", 1), None);
        assert_eq!(human(6 << 30), "6 GiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(512 << 20), "512 MiB");
    }
}
