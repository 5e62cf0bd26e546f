"""BlazePose GHUM on raw TFLite models: fetching, runtime, detector, landmarks, tracking, filtering."""
