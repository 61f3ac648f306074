"""What exposed storage holds: pure, cloud-free classification of sampled object bytes.

``readers`` turns a bounded byte prefix into records (CSV/TSV rows, JSON/JSON Lines key paths, text lines, gzip
transparently); ``detectors`` finds and validates values with well-kept libraries (phonenumbers, python-stdnum,
email-validator); ``columns`` classifies structured columns from header evidence and a sampled profile;
``masking`` hides values; ``classify`` counts per object; ``sampling`` picks the objects and sums a resource.
Nothing here performs I/O: the providers read the bytes and hand them in.
"""
