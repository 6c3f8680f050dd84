"""Colours for a terminal of 16 colours (TERM=linux, TERM=xterm, a console without 256 colours).

There Rich maps every colour to the nearest of the 16 ANSI colours (its own standard palette),
and the terminal paints that index with its own palette. The default dark theme's greys and
blends then land on unreadable pairs: the selected card became white on yellow (1.7:1 on the
xterm palette), "no next step" bright yellow on yellow. This theme uses only the 16 colours
themselves, and only pairs that keep a contrast of 4.5:1 or more on the xterm, Tango (GNOME
Terminal before 3.32) and GNOME palettes: text on black in white, bright white, bright yellow,
bright green or bright cyan; a red badge in bright white. A selection is reverse video (the same
pair, swapped). Rules that need more than a colour (reverse video, badges) are in app.tcss under
`.-theme-salesengine-16`, the class Textual gives the app while this theme is on.

The truecolour and 256-colour themes are unchanged: this one is chosen only when the terminal
says it has 16 colours (never in headless test runs, whose terminal is not a user's).
"""

from __future__ import annotations

from rich.console import Console
from rich.terminal_theme import TerminalTheme
from textual.app import App
from textual.theme import Theme

SIXTEEN_THEME = "salesengine-16"

# The 16 ANSI colours as Rich's standard palette has them: a colour given as one of these
# values is sent to the terminal as that index, whatever the terminal then paints.
BLACK, RED, GREEN, YELLOW = "#000000", "#aa0000", "#00aa00", "#aa5500"
BLUE, MAGENTA, CYAN, WHITE = "#0000aa", "#aa00aa", "#00aaaa", "#aaaaaa"
GREY, BRIGHT_RED, BRIGHT_GREEN, BRIGHT_YELLOW = "#555555", "#ff5555", "#55ff55", "#ffff55"
BRIGHT_BLUE, BRIGHT_MAGENTA, BRIGHT_CYAN, BRIGHT_WHITE = "#5555ff", "#ff55ff", "#55ffff", "#ffffff"

SIXTEEN = Theme(
    name=SIXTEEN_THEME,
    primary=BRIGHT_CYAN,
    secondary=CYAN,
    accent=BRIGHT_YELLOW,
    warning=BRIGHT_YELLOW,
    error=RED,
    success=BRIGHT_GREEN,
    foreground=BRIGHT_WHITE,
    background=BLACK,
    surface=BLACK,
    panel=BLACK,
    boost=BLACK,
    dark=True,
    variables={
        # Text: no blends (a blend lands on whichever index is nearest).
        "text": BRIGHT_WHITE,
        "text-muted": WHITE,
        "text-disabled": WHITE,
        "foreground-muted": WHITE,
        "foreground-disabled": WHITE,
        "text-primary": BRIGHT_CYAN,
        "text-secondary": BRIGHT_CYAN,
        "text-accent": BRIGHT_YELLOW,
        "text-warning": BRIGHT_YELLOW,
        # Red text on black is under 4.5:1 on every palette: errors read in bright yellow
        # with their words; what must be red (ROTTING, late) is a red badge (app.tcss).
        "text-error": BRIGHT_YELLOW,
        "text-success": BRIGHT_GREEN,
        "panel-lighten-1": BLACK,
        "panel-lighten-2": BLACK,
        "panel-lighten-3": BLACK,
        "surface-lighten-1": BLACK,
        "surface-active": BLACK,
        "primary-muted": BLACK,
        "secondary-muted": BLACK,
        "accent-muted": BLACK,
        "warning-muted": BLACK,
        "error-muted": BLACK,
        "success-muted": BLACK,
        "primary-background": BLUE,  # a focused field: bright white on blue
        "secondary-background": BLACK,
        # Tables and option lists: the cursor row in reverse video (bright white bar,
        # black text); an unfocused one underlined.
        "block-cursor-foreground": BRIGHT_WHITE,
        "block-cursor-background": BLACK,
        "block-cursor-text-style": "bold reverse",
        "block-cursor-blurred-foreground": BRIGHT_WHITE,
        "block-cursor-blurred-background": BLACK,
        "block-cursor-blurred-text-style": "underline",
        "block-hover-background": BLACK,
        "border": WHITE,
        "border-blurred": GREY,
        "scrollbar": WHITE,
        "scrollbar-hover": BRIGHT_WHITE,
        "scrollbar-active": BRIGHT_WHITE,
        "scrollbar-background": BLACK,
        "scrollbar-background-hover": BLACK,
        "scrollbar-background-active": BLACK,
        "scrollbar-corner-color": BLACK,
        "footer-foreground": BRIGHT_WHITE,
        "footer-background": BLACK,
        "footer-key-foreground": BRIGHT_YELLOW,
        "footer-key-background": BLACK,
        "footer-description-foreground": BRIGHT_WHITE,
        "footer-description-background": BLACK,
        "footer-item-background": BLACK,
        "input-cursor-foreground": BLACK,
        "input-cursor-background": BRIGHT_WHITE,
        "input-cursor-text-style": "none",
        "input-selection-background": BRIGHT_WHITE,
        "input-selection-foreground": BLACK,
        "screen-selection-background": BRIGHT_WHITE,
        "screen-selection-foreground": BLACK,
        "link-color": BRIGHT_CYAN,
        "link-color-hover": BRIGHT_WHITE,
        "link-background": BLACK,
        "link-background-hover": BLACK,
        "button-foreground": BRIGHT_WHITE,
        "button-color-foreground": BLACK,
    },
)

# Named colours in text ("red", "bold yellow") are turned into RGB by Textual through an ANSI
# theme (Monokai by default), then back to an index for the terminal: through Monokai, "red"
# came out magenta and "yellow" bright red. Here each name gives its own hue, and the dark ones
# their bright variant: red, green, yellow or blue text on black is hard to read.
_BRIGHT = [
    (85, 85, 85),
    (255, 85, 85),
    (85, 255, 85),
    (255, 255, 85),
    (85, 85, 255),
    (255, 85, 255),
    (85, 255, 255),
    (255, 255, 255),
]
STANDARD_ANSI = TerminalTheme(
    background=(0, 0, 0),
    foreground=(255, 255, 255),
    normal=[(0, 0, 0), *_BRIGHT[1:7], (170, 170, 170)],
    bright=_BRIGHT,
)


def has_sixteen_colours(console: Console) -> bool:
    """The terminal takes 16 colours only (Rich's reading of TERM and COLORTERM)."""
    return console.color_system in ("standard", "windows")


def use_sixteen_colours(app: App[object]) -> None:
    """Switch `app` to the 16-colour theme and its ANSI names."""
    app.ansi_theme_dark = STANDARD_ANSI
    app.theme = SIXTEEN_THEME
