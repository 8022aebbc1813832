"""Committee packs: the figures a pack carries, small-number suppression for public packs, the
plain-English words, the charts and the PDF. Qt-free; built by
:func:`sefton_qa.services.reports.committee_pack` for the CLI and the GUI alike."""
