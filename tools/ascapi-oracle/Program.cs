// ascapi-oracle reads request bodies as ONLYOFFICE's ASC.Api (v12, ApiArgumentBuilder.GetRequestParams)
// reads them, with the real libraries under Mono: System.Net.Mime.ContentType for the media type,
// StreamReader + XDocument.Load for text/xml, Json.NET's XmlNodeConverter for application/json (the
// Json.NET assembly is given at compile time: ONLYOFFICE v12 pins 13.0.1), HttpUtility for the query
// string and urlencoded forms. It is aspgate's own program, written from the facts in the README; it
// records testdata/golden/r7bind, which aspgate's binder is tested against without Mono.
//
// Input: JSON lines {"name":..., "contentType":..., "query":..., "body":... | "bodyBase64":...}.
// Output: the same lines with "result": {"params":[[key,[values...]],...]} or
// {"status":"400 Invalid arguments"|"500 Server error","message":...,"hresult":...,"type":...}.
using System;
using System.Collections.Specialized;
using System.IO;
using System.Linq;
using System.Net.Mime;
using System.Reflection;
using System.Text;
using System.Web;
using System.Xml.Linq;
using Newtonsoft.Json;
using Newtonsoft.Json.Converters;
using Newtonsoft.Json.Linq;

static class Program
{
    static int Main()
    {
        var utf8 = new UTF8Encoding(false);
        var input = new StreamReader(Console.OpenStandardInput(), utf8);
        var output = new StreamWriter(Console.OpenStandardOutput(), utf8) { NewLine = "\n" };
        string line;
        while ((line = input.ReadLine()) != null)
        {
            if (line.Trim().Length == 0) continue;
            var c = JObject.Parse(line);
            var ct = (string)c["contentType"];
            var query = (string)c["query"] ?? "";
            byte[] body = c["bodyBase64"] != null
                ? Convert.FromBase64String((string)c["bodyBase64"])
                : utf8.GetBytes((string)c["body"] ?? "");
            var result = new JObject();
            mediaType = null;
            try
            {
                var nvc = Params(ct, query, body);
                var arr = new JArray();
                foreach (string k in nvc.AllKeys)
                {
                    arr.Add(new JArray(k, new JArray(nvc.GetValues(k).Cast<object>().ToArray())));
                }
                result["params"] = arr;
            }
            catch (Exception e)
            {
                // ApiHttpHandler: an ArgumentException inside a TargetInvocationException is 400 "Invalid
                // arguments", anything else 500 "Server error"; ErrorWrapper reports the innermost exception.
                var status = e is TargetInvocationException && e.InnerException is ArgumentException
                    ? "400 Invalid arguments" : "500 Server error";
                var inner = e;
                while (inner.InnerException != null) inner = inner.InnerException;
                result["status"] = status;
                result["message"] = inner.Message;
                result["hresult"] = inner.HResult;
                result["type"] = inner.GetType().FullName;
            }
            if (mediaType != null) result["mediaType"] = mediaType;
            c["result"] = result;
            output.WriteLine(c.ToString(Formatting.None));
        }
        output.Flush();
        return 0;
    }

    static string mediaType;

    static NameValueCollection Params(string contentType, string query, byte[] body)
    {
        var collection = new NameValueCollection();
        collection.Add(HttpUtility.ParseQueryString(query, Encoding.UTF8));
        var type = string.IsNullOrEmpty(contentType) ? new ContentType("text/plain") : new ContentType(contentType);
        mediaType = type.MediaType;
        switch (type.MediaType)
        {
            case "text/xml":
                using (var reader = new StreamReader(new MemoryStream(body)))
                {
                    var root = XDocument.Load(reader).Root;
                    if (root != null) Fill(root.Elements(), "", collection);
                }
                break;
            case "application/json":
                using (var reader = new StreamReader(new MemoryStream(body)))
                {
                    var value = reader.ReadToEnd();
                    XDocument xdoc;
                    try
                    {
                        // JsonConvert.DeserializeXNode(value, "request", false) of Json.NET 13.0.1, whose
                        // serializer settings default MaxDepth to 64.
                        var converter = new XmlNodeConverter { DeserializeRootElementName = "request", WriteArrayAttribute = false };
                        var settings = new JsonSerializerSettings { Converters = { converter }, MaxDepth = 64 };
                        xdoc = (XDocument)JsonConvert.DeserializeObject(value, typeof(XDocument), settings);
                    }
                    catch (Exception e)
                    {
                        throw new TargetInvocationException(new ArgumentException("Unable to deserialize json", e));
                    }
                    XElement root;
                    if (xdoc != null && (root = xdoc.Root) != null) Fill(root.Elements(), "", collection);
                }
                break;
            default:
                if (contentType != null && contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                {
                    collection.Add(UrlEncodedForm(contentType, body));
                }
                else if (contentType != null && contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
                {
                    collection.Add(MultipartForm(contentType, body));
                }
                break;
        }
        return collection;
    }

    // Mono's HttpRequest.LoadWwwForm: the body decoded in the request's encoding ("; charset=" as written,
    // else UTF-8), split at '&' and at the first '=', each part HttpUtility.UrlDecode'd.
    static NameValueCollection UrlEncodedForm(string contentType, byte[] body)
    {
        var enc = Encoding.UTF8;
        var charset = Parameter(contentType, "; charset=");
        if (charset != null)
        {
            try { enc = Encoding.GetEncoding(charset); } catch { enc = Encoding.UTF8; }
        }
        var form = new NameValueCollection(StringComparer.OrdinalIgnoreCase);
        var text = new StreamReader(new MemoryStream(body), enc).ReadToEnd();
        var key = new StringBuilder();
        var value = new StringBuilder();
        int i = 0;
        Action add = () =>
        {
            form.Add(HttpUtility.UrlDecode(key.ToString(), enc), HttpUtility.UrlDecode(value.ToString(), enc));
            key.Length = 0;
            value.Length = 0;
        };
        while (i < text.Length)
        {
            char ch = text[i++];
            if (ch == '=')
            {
                value.Length = 0;
                bool amp = false;
                while (i < text.Length)
                {
                    char v = text[i++];
                    if (v == '&') { add(); amp = true; break; }
                    value.Append(v);
                }
                if (!amp) { add(); return form; }
            }
            else if (ch == '&') add();
            else key.Append(ch);
        }
        add();
        return form;
    }

    // Mono's HttpRequest.LoadMultiPart with its own (internal) HttpMultipart reader: the boundary from
    // "; boundary=" as written, form items (no filename) decoded in the request's encoding.
    static NameValueCollection MultipartForm(string contentType, byte[] body)
    {
        var form = new NameValueCollection(StringComparer.OrdinalIgnoreCase);
        var boundary = Parameter(contentType, "; boundary=");
        if (boundary == null) return form;
        var enc = Encoding.UTF8;
        var charset = Parameter(contentType, "; charset=");
        if (charset != null)
        {
            try { enc = Encoding.GetEncoding(charset); } catch { enc = Encoding.UTF8; }
        }
        var type = Type.GetType("System.Web.HttpMultipart, System.Web, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a", true);
        var input = new MemoryStream(body);
        var reader = Activator.CreateInstance(type, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, new object[] { input, boundary, enc }, null);
        var next = type.GetMethod("ReadNextElement", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        object e;
        while ((e = next.Invoke(reader, null)) != null)
        {
            var et = e.GetType();
            Func<string, object> field = n => et.GetField(n, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).GetValue(e);
            if (field("Filename") != null) continue;
            var start = (long)field("Start");
            var length = (long)field("Length");
            form.Add((string)field("Name"), enc.GetString(body, (int)start, (int)length));
        }
        return form;
    }

    // Mono's HttpRequest.GetParameter.
    static string Parameter(string header, string attr)
    {
        int ap = header.IndexOf(attr, StringComparison.Ordinal);
        if (ap == -1) return null;
        ap += attr.Length;
        if (ap >= header.Length) return null;
        char ending = header[ap];
        if (ending != '"') ending = ' ';
        int end = header.IndexOf(ending, ap + 1);
        if (end == -1) return ending == '"' ? null : header.Substring(ap);
        return header.Substring(ap + 1, end - ap - 1);
    }

    // ApiArgumentBuilder.FillCollectionFromXElement: elements grouped by name; a single leaf adds its value
    // under its local name, several leaves add each, anything with child elements adds bracketed keys.
    static void Fill(System.Collections.Generic.IEnumerable<XElement> elements, string prefix, NameValueCollection collection)
    {
        foreach (var group in elements.GroupBy(x => x.Name))
        {
            if (group.Count() < 2)
            {
                var element = group.SingleOrDefault();
                if (element == null) continue;
                if (!element.HasElements) Add(prefix, collection, element);
                else Fill(element.Elements(), prefix + "." + element.Name.LocalName, collection);
            }
            else if (group.All(x => !x.HasElements))
            {
                foreach (var element in group) Add(prefix, collection, element);
            }
            else
            {
                var list = group.ToList();
                for (var i = 0; i < list.Count; i++)
                    Fill(list[i].Elements(), prefix + "." + group.Key + "[" + i + "]", collection);
            }
        }
    }

    static void Add(string prefix, NameValueCollection collection, XElement element)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            collection.Add(element.Name.LocalName, element.Value);
            return;
        }
        var parts = prefix.TrimStart('.').Split('.');
        var extra = "";
        if (parts.Length > 1)
        {
            extra = string.Join("", parts.Skip(1).Select(p =>
            {
                var at = p.IndexOf('[');
                return at < 0 ? "[" + p + "]" : "[" + p.Substring(0, at) + "]" + p.Substring(at);
            }).ToArray());
        }
        collection.Add(parts[0] + extra + "[" + element.Name.LocalName + "]", element.Value);
    }
}
