"""What the spider hands on to the pipelines."""

import scrapy


class DocumentItem(scrapy.Item):
    """A document found on a portal: a report page, an attachment, or a list page."""

    portal_id = scrapy.Field()
    url = scrapy.Field()
    # "report_page" | "attachment" | "list_page", or "detail_page": a page that only links its report's
    # attachment (archived and catalogued, not parsed as a report)
    kind = scrapy.Field()
    title = scrapy.Field()
    year = scrapy.Field()  # the statistical year, from the title
    published = scrapy.Field()  # ISO date from the list or detail page
    index_no = scrapy.Field()  # 索引号
    publisher = scrapy.Field()  # 发布机构
    referer = scrapy.Field()
    content_type = scrapy.Field()
    filename = scrapy.Field()
    sha256 = scrapy.Field()
    status = scrapy.Field()
    warc_record_id = scrapy.Field()
    truncated = scrapy.Field()  # WARC-Truncated of the archived body ("length": the size cap cut it)
    fetched_at = scrapy.Field()
