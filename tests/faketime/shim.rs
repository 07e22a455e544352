//! A clock shifted for one process, for tests: loaded with `LD_PRELOAD`, it answers
//! `clock_gettime(CLOCK_REALTIME, …)` (what Rust's `SystemTime::now` asks) with the real
//! time plus `TIPX_FAKETIME_OFFSET_SECS` seconds (negative: behind). Monotonic clocks are
//! left alone, so timers and timeouts run as usual. Built by the test harness with plain
//! `rustc` (`tipx_tests::faketime`), so no system package is needed.

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

#[repr(C)]
pub struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

type ClockGettime = unsafe extern "C" fn(c_int, *mut Timespec) -> c_int;

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn getenv(name: *const c_char) -> *const c_char;
}

/// `RTLD_NEXT` on Linux: the next definition after this library's.
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;
const CLOCK_REALTIME: c_int = 0;

static REAL: OnceLock<usize> = OnceLock::new();
static OFFSET: OnceLock<i64> = OnceLock::new();

fn offset() -> i64 {
    *OFFSET.get_or_init(|| {
        let v = unsafe { getenv(c"TIPX_FAKETIME_OFFSET_SECS".as_ptr()) };
        if v.is_null() {
            return 0;
        }
        let s = unsafe { std::ffi::CStr::from_ptr(v) };
        s.to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// # Safety
/// Called by the C library's callers with a valid `ts`, as `clock_gettime` is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int {
    let real =
        *REAL.get_or_init(|| unsafe { dlsym(RTLD_NEXT, c"clock_gettime".as_ptr()) as usize });
    let real: ClockGettime = unsafe { std::mem::transmute::<usize, ClockGettime>(real) };
    let r = unsafe { real(clock, ts) };
    if r == 0 && clock == CLOCK_REALTIME && !ts.is_null() {
        unsafe { (*ts).tv_sec += offset() };
    }
    r
}
