//! Counting passed and failed tests from the output of the runners `cargo xtask test` drives.
use regex::Regex;

/// Tests passed and failed according to one runner's output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

/// Sums every libtest summary (`test result: ok. 3 passed; 1 failed; ...`). Cargo prints one per
/// test binary and doc-test run; wasm-bindgen-test-runner prints the same line.
pub fn from_libtest(output: &str) -> Counts {
    let re = Regex::new(r"test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed")
        .expect("valid regex");
    re.captures_iter(output)
        .fold(Counts::default(), |acc, c| Counts {
            passed: acc.passed + c[1].parse::<u64>().unwrap_or(0),
            failed: acc.failed + c[2].parse::<u64>().unwrap_or(0),
        })
}

/// Reads the TAP summary of `node --test --test-reporter=tap` (`# pass N`, `# fail N`,
/// `# cancelled N`; the last one printed wins, it covers the whole run). Cancelled tests (timed
/// out, or their file hung) count as failed.
pub fn from_tap(output: &str) -> Counts {
    let last = |key: &str| {
        let re = Regex::new(&format!(r"(?m)^# {key} (\d+)\s*$")).expect("valid regex");
        re.captures_iter(output)
            .last()
            .and_then(|c| c[1].parse::<u64>().ok())
            .unwrap_or(0)
    };
    Counts {
        passed: last("pass"),
        failed: last("fail") + last("cancelled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_summaries_are_summed_across_binaries() {
        let out = "running 2 tests\ntest result: ok. 2 passed; 0 failed; 0 ignored; 0 measured\n\
                   test result: FAILED. 5 passed; 1 failed; 0 ignored; 0 measured\n";
        assert_eq!(
            from_libtest(out),
            Counts {
                passed: 7,
                failed: 1
            }
        );
        assert_eq!(
            from_libtest("error[E0425]: cannot find value"),
            Counts::default()
        );
    }

    #[test]
    fn tap_summary_is_read_from_its_comment_lines() {
        let out = "TAP version 13\nok 1 - a\nnot ok 2 - b\n1..2\n# tests 2\n# pass 1\n# fail 1\n# cancelled 0\n";
        assert_eq!(
            from_tap(out),
            Counts {
                passed: 1,
                failed: 1
            }
        );
        let timed_out = "# tests 3\n# pass 1\n# fail 1\n# cancelled 1\n";
        assert_eq!(
            from_tap(timed_out),
            Counts {
                passed: 1,
                failed: 2
            }
        );
    }
}
