"""Train the domain classifier of a labelled data set: `python src/train_classifier.py data=digits`.

Its penultimate layer gives FID/KID/precision-recall features and its logits IS and class
coverage. Saved to data/classifiers/<data name>.pt, where the metric callbacks look for it.
"""

from ganarena.cli import run_job
from ganarena.features.classifier_job import train_classifier_job

if __name__ == "__main__":
    run_job(train_classifier_job, config_name="train_classifier")
