/* jpage: paging through dataproxy.jsp */
