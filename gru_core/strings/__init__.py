"""The UI's texts, one table per language: `en.EN` and `zh.ZH`, key -> text (see gru_core.i18n)."""
