"""Errors about what the user gave ptref, told apart from bugs, and said in one line.

``ptref``'s :func:`~ptref.cli.main` prints an error about the user's input as one line, ``ptref: <message>``,
without a traceback (``--debug`` or ``PTREF_DEBUG=1`` shows it). The rule, applied by :func:`user_message`:
an exception is about the input when it is

- a :class:`UserInputError` (ptref's own checks of options, config files, checkpoints, numbers that cannot
  train), also when an exception of another type was raised from it;
- a ``ValueError``, ``OSError`` or ``RuntimeError`` raised by a ``raise`` statement in ptref's own code: each
  of those in ptref's data modules, models and callbacks is a check of the user's files or settings, and its
  message names them;
- an ``OSError`` that names a file (the system refused to open, read or write that path);
- Lightning's ``MisconfigurationException``, Lightning's own type for a Trainer configured wrongly.

jsonargparse wraps an error raised while it builds the model or data module in a ``ValueError`` of its own
that lists every class it tried; the rule follows the ``raise ... from`` chain to the original exception.
Anything else keeps its traceback: a ``ValueError`` raised inside torch, Lightning or numpy, or one raised
implicitly by ptref's code (a failed unpacking, ``int("x")``), is a bug or a case ptref does not check, and
the traceback is what it takes to fix it.

Exit status: 2 when the command line or a config file is refused by the parser (an unknown option or
command, a value of the wrong type, YAML that does not parse), as argparse and LightningCLI do; 1 for
everything refused after parsing (files, checkpoints, values, data that does not fit the model).
"""

from __future__ import annotations

import argparse
import difflib
import dis
import inspect
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from lightning.fabric.utilities.exceptions import MisconfigurationException

PACKAGE = Path(__file__).resolve().parent


class UserInputError(ValueError):
    """Something the user gave cannot be used; the message names it and says what would work."""

    exit_code = 1


class UsageError(UserInputError):
    """The command line or a config file is refused by the parser."""

    exit_code = 2


def one_line(text: str) -> str:
    """``text`` with its lines joined by spaces (messages that explain options span several lines)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def causes(error: BaseException) -> list[BaseException]:
    """``error`` and the exceptions it was explicitly raised ``from``, outermost first."""
    chain = [error]
    while chain[-1].__cause__ is not None and chain[-1].__cause__ not in chain:
        chain.append(chain[-1].__cause__)
    return chain


def raised_by_ptref(error: BaseException) -> bool:
    """Whether ``error`` comes from a ``raise`` statement in ptref's code (not from a call ptref made)."""
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    code = traceback.tb_frame.f_code
    if not Path(code.co_filename).resolve().is_relative_to(PACKAGE):
        return False
    # The instruction that raised: RAISE_VARARGS for `raise`, a call or an operator for an implicit error.
    return any(op.offset == traceback.tb_lasti and op.opname == "RAISE_VARARGS" for op in dis.get_instructions(code))


def user_error(error: BaseException) -> tuple[str, int] | None:
    """``(one-line message, exit status)`` for an error about the user's input (module docstring), else None."""
    chain = causes(error)
    for link in chain:
        if isinstance(link, (UserInputError, MisconfigurationException)):
            return one_line(str(link)), getattr(link, "exit_code", 1)
    original = chain[-1]
    if isinstance(original, OSError) and original.filename is not None:
        return one_line(str(original)), 1
    if isinstance(original, (ValueError, OSError, RuntimeError)) and raised_by_ptref(original):
        return one_line(str(original)), 1
    return None


def closest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the candidate nearest to ``name``, or nothing when none is near."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def init_options(class_path: str, prefix: str) -> list[str]:
    """``--prefix.<arg>`` for each ``__init__`` argument of an already imported class (none if unknown)."""
    module, _, name = class_path.rpartition(".")
    cls = getattr(sys.modules.get(module), name, None)
    if not inspect.isclass(cls):
        return []
    return [f"--{prefix}.{parameter}" for parameter in inspect.signature(cls).parameters]


def usage_message(error: argparse.ArgumentError, options: Iterable[str]) -> str:
    """One line for a jsonargparse parse error, with the option it is about and the nearest valid one.

    jsonargparse reports a bad value of a ``class_path`` argument as ``Parser key "model": Does not validate
    against any of the Union subtypes ...`` with every subtype it tried; the cause is the innermost exception
    of the chain, and the option is the parser key.
    """
    chain = causes(error)
    text = str(chain[-1])
    messages = "\n".join(str(link) for link in chain)
    key = re.search(r'Parser key "([^"]+)"', messages)
    class_path = re.search(r"Problem with given class_path '([^']+)'", messages)

    unrecognized = re.match(r"unrecognized arguments: (.*)", text)
    if unrecognized:
        option = next((token for token in unrecognized[1].split() if token.startswith("-")), unrecognized[1])
        option = option.split("=", 1)[0]
        return f"{option}: no such option{closest(option, options)}"
    not_accepted = re.fullmatch(r"Option '([^']+)' is not accepted", text)
    if not_accepted and key:
        option = f"--{key[1]}.{not_accepted[1]}"
        owner = f" of {class_path[1]}" if class_path else ""
        candidates = init_options(class_path[1], key[1]) if class_path else []
        return f"{option}: no such option{owner}{closest(option, candidates)}"
    text = one_line(re.sub(r"Expected a <class '([\w.]+)'>", r"expected a value of type \1", text))
    return f"--{key[1]}: {text}" if key else text
