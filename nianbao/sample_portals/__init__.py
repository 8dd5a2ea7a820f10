"""The bundled sample portals: generated sites of four CMS families, report documents in every format,
and the ground truth of every report they publish (see `truth.load_truth`)."""
