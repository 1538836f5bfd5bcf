#ifndef CNCURSES_H
#define CNCURSES_H
// Wide-character ncurses for Swift. The globals (stdscr, COLS, LINES, COLORS, COLOR_PAIRS)
// are read through static inline getters so Swift 6 strict concurrency never sees them.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <wchar.h>
#include <locale.h>
#if __has_include(<ncursesw/curses.h>)
#include <ncursesw/curses.h>
#else
#include <curses.h>
#endif

// Attribute bits, exported as plain ints.
enum {
    CNC_ATTR_BOLD = 1,
    CNC_ATTR_REVERSE = 2,
    CNC_ATTR_UNDERLINE = 4,
    CNC_ATTR_DIM = 8,
};

static inline WINDOW *cnc_stdscr(void) { return stdscr; }
static inline int cnc_cols(void) { return COLS; }
static inline int cnc_lines(void) { return LINES; }
static inline int cnc_colors(void) { return COLORS; }
static inline int cnc_color_pairs(void) { return COLOR_PAIRS; }
static inline int cnc_key_resize(void) { return KEY_RESIZE; }
static inline int cnc_key_mouse(void) { return KEY_MOUSE; }
static inline int cnc_err(void) { return ERR; }

/// Sets locale from the environment; returns 1 when the codeset is UTF-8.
int cnc_setlocale_utf8(void);
/// initscr + raw + noecho + keypad + nonl + alternate screen; returns 0 on success.
int cnc_start(void);
/// Enables mouse button-1 clicks; returns 1 when the terminal supports the mouse.
int cnc_enable_mouse(void);
/// start_color/use_default_colors; returns the number of colours usable (0 = mono).
int cnc_start_color(void);
int cnc_init_pair(int pair, int fg, int bg);
/// Draws one cell: a UTF-8 glyph (one grapheme, width 1 or 2), colour pair, CNC_ATTR_* bits.
void cnc_put(int y, int x, const char *utf8, int pair, int attrs);
/// Draws an ASCII byte quickly.
void cnc_put_ascii(int y, int x, char c, int pair, int attrs);
void cnc_move(int y, int x);
void cnc_refresh(void);
void cnc_clear(void);
/// Input with a timeout in milliseconds (-1 blocks). Returns the key code; *is_wide is set
/// when the code is a Unicode character rather than a KEY_ constant. Returns ERR on timeout.
int cnc_get_key(int timeout_ms, int *is_wide);
/// Opens the wake pipe (once; returns 0, or -1 when no pipe could be made: input then waits
/// its whole timeout as with cnc_get_key).
int cnc_wake_open(void);
/// Makes a cnc_get_key_or_wake in progress (or the next one) return at once. Any thread may call it.
void cnc_wake(void);
/// cnc_get_key that also returns (ERR) as soon as cnc_wake is called, so results from worker
/// threads are shown without waiting out the key timeout.
int cnc_get_key_or_wake(int timeout_ms, int *is_wide);
/// After KEY_MOUSE: fills the position and returns 1 for a button-1 press/click.
/* 1: button 1 pressed or clicked, 4: wheel up, 5: wheel down, 0: anything else. */
int cnc_get_mouse(int *y, int *x);
/// Re-reads the terminal size after SIGWINCH/KEY_RESIZE.
void cnc_update_size(int *lines, int *cols);
void cnc_cursor(int visible);
int cnc_end(void);
/// SIGINT/SIGTERM/SIGHUP set a flag (read with cnc_take_signal); fatal signals (SIGSEGV,
/// SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGTRAP) restore the terminal and re-raise.
void cnc_install_signal_handlers(void);
/// The last termination signal received (0 = none); clears it.
int cnc_take_signal(void);
/// Restores default signal dispositions.
void cnc_restore_signal_handlers(void);
/// 1 when stdin and stdout are terminals.
int cnc_isatty(void);
int cnc_is_ended(void);
#endif
