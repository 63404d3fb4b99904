"""Every bar of lstmcore and its plugins draws on a terminal that reports no size (`script`, `docker exec -t`)."""
import io

from lstmcore import toolkit as tk


class _SizelessTerminal(io.StringIO):
    """A standard error that says it is a terminal and cannot tell its size."""

    def isatty(self):
        return True


def test_a_terminal_of_no_size_gets_an_80_column_bar():
    terminal = _SizelessTerminal()
    bar = tk.progress_bar(range(3), file=terminal, desc="align", disable=None, mininterval=0)
    assert bar.ncols == 80
    for _ in bar:
        pass
    assert "align" in terminal.getvalue() and "3/3" in terminal.getvalue()


def test_off_a_terminal_the_bar_is_tqdm_s_own():
    log = io.StringIO()
    assert tk.progress_bar(range(3), file=log, disable=None).disable    # disable=None: terminals only
    assert tk.progress_bar(range(3), file=log, ncols=50).ncols == 50
