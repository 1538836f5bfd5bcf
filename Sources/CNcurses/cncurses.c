#include "cncurses.h"
#include <string.h>
#include <stdlib.h>
#include <langinfo.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <signal.h>
#include <poll.h>
#include <fcntl.h>
#include <errno.h>

static volatile sig_atomic_t cnc_signal_flag = 0;
static volatile sig_atomic_t cnc_started = 0;

static void cnc_on_term(int sig) { cnc_signal_flag = sig; }

static void cnc_on_fatal(int sig) {
    // Best effort: leave the alternate screen and raw mode before dying.
    if (cnc_started && !isendwin()) endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int cnc_term_signals[] = { SIGINT, SIGTERM, SIGHUP };
static const int cnc_fatal_signals[] = { SIGSEGV, SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGTRAP };

void cnc_install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = cnc_on_term;
    for (size_t i = 0; i < sizeof cnc_term_signals / sizeof *cnc_term_signals; i++)
        sigaction(cnc_term_signals[i], &sa, NULL);
    sa.sa_handler = cnc_on_fatal;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof cnc_fatal_signals / sizeof *cnc_fatal_signals; i++)
        sigaction(cnc_fatal_signals[i], &sa, NULL);
}

void cnc_restore_signal_handlers(void) {
    for (size_t i = 0; i < sizeof cnc_term_signals / sizeof *cnc_term_signals; i++)
        signal(cnc_term_signals[i], SIG_DFL);
    for (size_t i = 0; i < sizeof cnc_fatal_signals / sizeof *cnc_fatal_signals; i++)
        signal(cnc_fatal_signals[i], SIG_DFL);
}

int cnc_take_signal(void) {
    int s = cnc_signal_flag;
    cnc_signal_flag = 0;
    return s;
}

int cnc_isatty(void) { return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO); }

int cnc_setlocale_utf8(void) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    if (!cs) return 0;
    return (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0 || strcmp(cs, "utf-8") == 0) ? 1 : 0;
}

int cnc_start(void) {
    // newterm (unlike initscr) reports failure instead of exiting.
    if (newterm(NULL, stdout, stdin) == NULL) return -1;
    cnc_started = 1;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    return 0;
}

int cnc_enable_mouse(void) {
    mmask_t old = 0;
    mmask_t want = BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
    want |= BUTTON5_PRESSED;
#endif
    mmask_t got = mousemask(want, &old);
    mouseinterval(0);
    return got != 0 ? 1 : 0;
}

int cnc_start_color(void) {
    if (!has_colors()) return 0;
    if (start_color() != OK) return 0;
    use_default_colors();
    return COLORS;
}

int cnc_init_pair(int pair, int fg, int bg) { return init_pair((short)pair, (short)fg, (short)bg); }

static attr_t cnc_attrs(int attrs) {
    attr_t a = A_NORMAL;
    if (attrs & CNC_ATTR_BOLD) a |= A_BOLD;
    if (attrs & CNC_ATTR_REVERSE) a |= A_REVERSE;
    if (attrs & CNC_ATTR_UNDERLINE) a |= A_UNDERLINE;
    if (attrs & CNC_ATTR_DIM) a |= A_DIM;
    return a;
}

void cnc_put(int y, int x, const char *utf8, int pair, int attrs) {
    wchar_t wbuf[8];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    const char *src = utf8;
    size_t n = mbsrtowcs(wbuf, &src, 7, &st);
    if (n == (size_t)-1 || n == 0) { wbuf[0] = L'?'; n = 1; }
    wbuf[n] = 0;
    cchar_t cc;
    if (setcchar(&cc, wbuf, cnc_attrs(attrs), (short)pair, NULL) != OK) {
        wbuf[0] = L'?'; wbuf[1] = 0;
        setcchar(&cc, wbuf, cnc_attrs(attrs), (short)pair, NULL);
    }
    mvadd_wch(y, x, &cc);
}

void cnc_put_ascii(int y, int x, char c, int pair, int attrs) {
    mvaddch(y, x, (chtype)(unsigned char)c | cnc_attrs(attrs) | COLOR_PAIR(pair));
}

void cnc_move(int y, int x) { move(y, x); }
void cnc_refresh(void) { refresh(); }
void cnc_clear(void) { clear(); }

int cnc_get_key(int timeout_ms, int *is_wide) {
    timeout(timeout_ms);
    wint_t ch = 0;
    int r = get_wch(&ch);
    if (r == ERR) { *is_wide = 0; return ERR; }
    *is_wide = (r == OK) ? 1 : 0;
    return (int)ch;
}

// Written by worker threads, read by the UI loop: a pipe needs no lock, and a full pipe (the
// loop is already due to wake) just drops the byte.
static int cnc_wake_fds[2] = {-1, -1};

int cnc_wake_open(void) {
    if (cnc_wake_fds[0] >= 0) return 0;
    int fds[2];
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    cnc_wake_fds[0] = fds[0];
    cnc_wake_fds[1] = fds[1];
    return 0;
}

void cnc_wake(void) {
    if (cnc_wake_fds[1] < 0) return;
    char c = 1;
    ssize_t r = write(cnc_wake_fds[1], &c, 1);
    (void)r;
}

int cnc_get_key_or_wake(int timeout_ms, int *is_wide) {
    if (cnc_wake_fds[0] < 0) return cnc_get_key(timeout_ms, is_wide);
    // Keys curses already holds (the rest of a sequence it read ahead) come first: poll would
    // not see them on the descriptor.
    int k = cnc_get_key(0, is_wide);
    if (k != ERR) return k;
    struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {cnc_wake_fds[0], POLLIN, 0}};
    int n = poll(p, 2, timeout_ms);
    if (n <= 0) return ERR;  // timeout, or a signal (the loop checks the flag; SIGWINCH → KEY_RESIZE next)
    if (p[1].revents & POLLIN) {
        char buf[64];
        while (read(cnc_wake_fds[0], buf, sizeof buf) > 0) {}
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) return cnc_get_key(0, is_wide);
    *is_wide = 0;
    return ERR;
}

int cnc_get_mouse(int *y, int *x) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return 0;
    *y = ev.y; *x = ev.x;
    if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (ev.bstate & BUTTON4_PRESSED) return 4;  /* wheel up */
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) return 5;  /* wheel down */
#endif
    return 0;
}

void cnc_update_size(int *lines, int *cols) {
    // ncurses has already resized itself when get_wch returns KEY_RESIZE, and resizeterm queues
    // another KEY_RESIZE (ncurses owns SIGWINCH here): calling it unconditionally made every
    // KEY_RESIZE produce the next one, so after the first resize the loop only redrew and never
    // read a key again. Only a size that changed again since then needs it.
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
        (ws.ws_row != LINES || ws.ws_col != COLS)) {
        resizeterm(ws.ws_row, ws.ws_col);
    }
    *lines = LINES;
    *cols = COLS;
}

void cnc_cursor(int visible) { curs_set(visible); }

int cnc_end(void) {
    if (isendwin()) return 0;
    return endwin();
}

int cnc_is_ended(void) { return isendwin() ? 1 : 0; }
