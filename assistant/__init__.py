"""KVSP assistant core: settings, store, embedder, retrieval and one module per job."""
