"""Pure normalizers: raw provider snapshots -> the typed resource model. No SDK imports."""
