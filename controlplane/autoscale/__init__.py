"""Autoscaling: the recommended-workers policy, the recommender that feeds it, KEDA manifests."""
