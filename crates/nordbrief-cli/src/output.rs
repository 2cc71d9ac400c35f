//! Results on standard output, and the exit codes.

/// Exit codes, as documented in the README.
pub const EXIT_SOME_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// `print!` and `println!` for results on standard output, which end quietly
/// when the reader has gone (`nordbrief inspect big.txt | head`) and with a
/// clear error when the output cannot be written (a full disk), instead of
/// the panic of the std macros.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*)) };
}
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

pub fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(args).and_then(|_| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            std::process::exit(EXIT_ERROR.into());
        }
    }
}

/// Exit 0 when nothing failed, 1 when something did.
pub fn exit_code(failed: bool) -> std::process::ExitCode {
    if failed {
        std::process::ExitCode::from(EXIT_SOME_FAILED)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
