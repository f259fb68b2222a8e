"""Hyperparameter searches (`hparams_search=`): an Optuna study asked for trials that run as
Hydra jobs. The sweeper plugin is `hydra_plugins.ganarena_sweeper`; `ganarena.search.sweep`
imports Optuna, so the plugin imports it only when a search starts."""

#: What a search writes into its folder when it ends: the study, its counts, the best trial.
RESULTS_FILE = "optimization_results.yaml"
