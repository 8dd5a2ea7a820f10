"""nianbao: an archive of China's government information-disclosure annual reports."""

__version__ = "0.1.0"

# Bump when a parser change should re-parse every archived document.
PARSER_VERSION = "1"
