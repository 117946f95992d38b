"""One table of learning rules, keyed by ``(family, name)``.

A family is the kind of backbone a rule trains: ``image`` (the MLP and CNN classifiers), ``seq``
(the spiking RNN of the text and forecasting tasks) and ``ae`` (the spiking autoencoder). Rules
register with :func:`register`; every lookup goes through :func:`lookup`, whose error lists what
exists.
"""

from __future__ import annotations

from collections.abc import Callable

#: the backbone families a rule can be registered for
FAMILIES = ("image", "seq", "ae")
#: the family of each ``model.arch``
ARCH_FAMILY = {"mlp": "image", "cnn": "image", "rnn": "seq", "ae": "ae"}

_RULES: dict[tuple[str, str], type] = {}


def register(family: str, name: str) -> Callable[[type], type]:
    """Class decorator: file the rule under ``(family, name)`` and set its ``family`` and ``name``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown rule family {family!r}; choose one of {FAMILIES}")

    def deco(cls: type) -> type:
        key = (family, name)
        if key in _RULES and _RULES[key] is not cls:
            raise ValueError(f"rule {name!r} is already registered for the {family} family")
        cls.family, cls.name = family, name
        _RULES[key] = cls
        return cls

    return deco


def names(family: str) -> list[str]:
    """Registered rule names of ``family``, sorted."""
    return sorted(n for f, n in _RULES if f == family)


def family_of(arch: str) -> str:
    """The rule family of ``model.arch``; a clear error for an unknown architecture."""
    if arch not in ARCH_FAMILY:
        raise ValueError(f"model.arch={arch!r} is unknown; choose one of {sorted(ARCH_FAMILY)}")
    return ARCH_FAMILY[arch]


#: what each family's backbone is called in messages
BACKBONES = {"image": "the image classifiers", "seq": "the spiking RNN", "ae": "the spiking autoencoder"}


def archs(family: str) -> list[str]:
    """The ``model.arch`` values of ``family``, e.g. ``['cnn', 'mlp']`` for ``image``."""
    return sorted(a for a, f in ARCH_FAMILY.items() if f == family)


def _models(families: list[str]) -> str:
    return ", ".join(f"model={a}" for f in families for a in archs(f))


def lookup(family: str, name: str) -> type:
    """The rule class registered as ``(family, name)``.

    The error names the rule, the backbone asked for, the backbones the rule is defined on and the rules
    this backbone has, e.g. ``model.rule='rstdp' is not defined on the spiking autoencoder (model=ae); rstdp
    is defined on model=cnn, model=mlp; the rules of model=ae are [...]``.
    """
    _load()
    if (family, name) in _RULES:
        return _RULES[(family, name)]
    models = _models([family]) or f"the {family} family"
    elsewhere = sorted(f for f, n in _RULES if n == name)
    where = f"{name} is defined on {_models(elsewhere)}" if elsewhere else "no backbone has a rule of that name"
    raise ValueError(f"model.rule={name!r} is not defined on {BACKBONES.get(family, family)} ({models}); {where}; "
                     f"the rules of {models} are {names(family)}")


def ignored_keys(family: str, name: str) -> tuple[str, ...]:
    """Config key prefixes that rule ``(family, name)`` never reads (e.g. ``model.reco`` for back-propagation).

    Besides the rule's own ``ignored_keys``: the settings of every other rule (``reads`` of the rules
    registered for ``family``, such as ``model.pc``) that this rule does not read itself.
    """
    cls = lookup(family, name)
    own = tuple(getattr(cls, "reads", ()))
    others = sorted({k for (f, _), c in _RULES.items() if f == family for k in getattr(c, "reads", ())} - set(own))
    return (*getattr(cls, "ignored_keys", ()), *others)


def criteria_for(family: str, name: str, cfg) -> tuple[str, ...]:
    """The plausibility criteria rule ``(family, name)`` meets with the model config ``cfg`` (a schema object).

    A rule whose criteria depend on its settings computes them in a ``criteria_of(cfg)`` class method; the others
    declare them as the class attribute ``criteria``.
    """
    cls = lookup(family, name)
    of = getattr(cls, "criteria_of", None)
    return tuple(of(cfg)) if of is not None else tuple(cls.criteria)


def all_rules() -> dict[tuple[str, str], type]:
    """A copy of the whole table."""
    _load()
    return dict(_RULES)


def _load() -> None:
    """Import the modules that register the built-in rules (they import this one)."""
    from . import ae, bp, bsd, dll, fa, pc, rstdp, seq, seq_bsd  # noqa: F401
