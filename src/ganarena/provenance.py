"""Where a run's settings came from: the command line, a loss preset, a data set's default
networks, a tuned file, or the defaults.

Hydra composes the config and records each group's chosen option, but not who chose it nor
which file set a value. Both follow from the command line and the config files themselves:
an option was chosen on the command line, or by the defaults list of another chosen config
(`configs/loss/lsgan.yaml` overrides `/optimizer`, `configs/data/digits.yaml` overrides
`/model`), or is the default; a value was set on the command line, or by a config that
overrides others (a `tuned` file, an `experiment`, `debug`, ...), later ones winning as in
the defaults list of `configs/train.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from ganarena.config import CONFIG_DIR

#: Groups whose chosen configs may choose other groups' options, in defaults-list order.
CHOOSING_GROUPS = ("data", "loss", "experiment", "study", "hparams_search", "debug")
#: Groups whose files set values elsewhere in the config, in defaults-list order.
SETTING_GROUPS = ("tuned", "lr_schedule", "experiment", "study", "hparams_search", "debug")
#: How a tuned file is chosen: by the data, model and optimizer chosen.
AUTOMATIC = "(data_model_optimizer)"
#: `override /model@_global_.model: compact` in a defaults list.
OVERRIDE = re.compile(r"override /([\w/]+)(?:@[\w.]+)?$")


@dataclass
class Provenance:
    """`choices`: group -> who chose its option; `settings`: dotted key -> who set it (only
    what a choice other than the defaults made, or the command line)."""

    choices: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"choices": dict(self.choices), "settings": dict(self.settings)}

    @property
    def tuned(self) -> str | None:
        """The tuned file that applied, by name, or None."""
        choice = self.choices.get("tuned", "")
        return choice.partition(" ")[0] if choice.endswith(AUTOMATIC) else None


def command_line_keys(overrides: Sequence[str]) -> tuple[set[str], set[str]]:
    """The keys the command line sets or chooses (`optimizer.generator.lr`, `loss`), and
    those it removes (`~tuned`)."""
    keys = [override.lstrip("+").partition("=")[0] for override in overrides]
    return {k for k in keys if not k.startswith("~")}, {k[1:] for k in keys if k.startswith("~")}


def config_file(group: str, option: str) -> Path:
    return CONFIG_DIR / group / f"{option}.yaml"


def defaults_overrides(path: Path) -> Iterator[tuple[str, str]]:
    """(group, option) of each `override /group...: option` in a config's defaults list."""
    defaults = OmegaConf.load(path).get("defaults", [])
    for entry in defaults if isinstance(defaults, ListConfig) else []:
        if isinstance(entry, DictConfig):
            for key, option in entry.items():
                match = OVERRIDE.match(str(key))
                if match and option is not None:
                    yield match.group(1), str(option)


def leaf_keys(node: object, prefix: str = "") -> Iterator[str]:
    """The dotted keys of a config file's values (`hydra.*`, where the run is, left out)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "defaults" and f"{prefix}{key}" != "hydra":
                yield from leaf_keys(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def keys_set_by(group: str, option: str) -> list[str]:
    """The dotted keys `configs/<group>/<option>.yaml` sets, where its package puts them."""
    path = config_file(group, option)
    if not path.is_file():
        return []
    is_global = "@package _global_" in path.read_text().split("\n", 1)[0]
    prefix = "" if is_global else f"{group.replace('/', '.')}."
    values = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    return [f"{prefix}{key}" for key in leaf_keys(values)]


def trace(choices: Mapping[str, str], overrides: Sequence[str]) -> Provenance:
    """Who chose each option of `choices` (Hydra's runtime choices) and who set each value,
    given the command line's `overrides`."""
    provenance = Provenance()
    typed, removed = command_line_keys(overrides)
    chosen_by: dict[str, str] = {}
    for chooser in CHOOSING_GROUPS:
        option = choices.get(chooser)
        if option and config_file(chooser, option).is_file():
            for group, picked in defaults_overrides(config_file(chooser, option)):
                if choices.get(group) == picked:
                    chosen_by[group] = f"{chooser}={option}"
    for key in removed:
        removal = provenance.choices if (CONFIG_DIR / key).is_dir() else provenance.settings
        removal[key] = "removed on the command line"
    for group, option in choices.items():
        if group in typed:
            provenance.choices[group] = "command line"
        elif group == "tuned" and config_file(group, option).is_file():
            provenance.choices[group] = f"{option} {AUTOMATIC}"
        elif group in chosen_by:
            provenance.choices[group] = f"{option}, chosen by {chosen_by[group]}"
    for group in SETTING_GROUPS:
        option = choices.get(group)
        if option and config_file(group, option).is_file():
            provenance.settings.update(
                dict.fromkeys(keys_set_by(group, option), f"{group} ({option})")
            )
    for key in typed - set(choices):
        provenance.settings[key] = "command line"
    return provenance
