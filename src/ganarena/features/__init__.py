"""Feature extractors for the sample metrics: Inception, the domain classifier, any module."""

from ganarena.features.base import FeatureExtractor, FeatureOutputs, FeatureUnavailable
from ganarena.features.channelwise import ChannelwiseFeatures
from ganarena.features.classifier import DomainClassifierFeatures, DomainClassifierNet
from ganarena.features.classifier_training import ClassifierTraining, train_domain_classifier
from ganarena.features.factory import FeatureSpec, build_feature_extractor
from ganarena.features.inception import InceptionFeatures
from ganarena.features.user_module import ModuleFeatures

__all__ = [
    "ChannelwiseFeatures",
    "ClassifierTraining",
    "DomainClassifierFeatures",
    "DomainClassifierNet",
    "FeatureExtractor",
    "FeatureOutputs",
    "FeatureSpec",
    "FeatureUnavailable",
    "InceptionFeatures",
    "ModuleFeatures",
    "build_feature_extractor",
    "train_domain_classifier",
]
