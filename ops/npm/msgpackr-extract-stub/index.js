// msgpackr loads this optionally and falls back to pure JS when it throws.
throw new Error('msgpackr-extract stub: native extractor not installed');
