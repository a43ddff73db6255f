"""Report outputs: one document model (blocks) rendered as PDF, Word and Excel; charts; fonts."""
