//! The `paydown` binary: parses the command line and hands over to
//! [`paydown::cli`]; errors become exit codes here and nowhere else.

use std::process::ExitCode;

fn main() -> ExitCode {
    paydown::cli::main()
}
