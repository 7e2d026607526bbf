"""Stage II inputs: window plans, feature extraction and the feature cache."""
