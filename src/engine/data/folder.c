/* A folder of images: one sub-folder per class (at the top or under
 * train/), optional unlabeled/ and test/ (see dataset.h). Decoded to HWC RGB
 * in memory with gdk-pixbuf, every image at the data set's most common size
 * (read from the headers first, so each file is decoded once). */
/* TODO: every image is decoded at open, one at a time; a large folder wants a
 * thread pool or decoding on access. */
#include "readers.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "rng.h"
#include "sc-error.h"

#define UNLABELED_DIR "unlabeled"
#define TEST_DIR "test"
#define TRAIN_DIR "train"
#define HOLDOUT_PERCENT 20
#define HOLDOUT_SEED 0x5eed     /* fixed: the test split belongs to the folder */
#define HOLDOUT_RNG_STEP 1000   /* apart from split.c's choices */
/* Ends every message about a file that cannot be decoded. */
#define FIX_IMAGE "; remove or replace it"

/* Files of one split before decoding: paths[i] has label labels[i] (-1: none). */
typedef struct {
  GPtrArray *paths;
  GArray *labels; /* int32_t */
} FileList;

static void
file_list_init(FileList *l)
{
  l->paths = g_ptr_array_new_with_free_func(g_free);
  l->labels = g_array_new(FALSE, FALSE, sizeof(int32_t));
}

static void
file_list_clear(FileList *l)
{
  g_clear_pointer(&l->paths, g_ptr_array_unref);
  g_clear_pointer(&l->labels, g_array_unref);
}

static void
file_list_add(FileList *l, char *path, int32_t label)
{
  g_ptr_array_add(l->paths, path);
  g_array_append_val(l->labels, label);
}

static gboolean
is_image_name(const char *name)
{
  const char *dot = strrchr(name, '.');
  return name[0] != '.' && dot != NULL
         && (g_ascii_strcasecmp(dot, ".png") == 0 || g_ascii_strcasecmp(dot, ".jpg") == 0
             || g_ascii_strcasecmp(dot, ".jpeg") == 0);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir's entries: sub-folders (dirs TRUE) or image files. */
static GPtrArray *
list_entries(const char *dir, gboolean dirs, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
  if (d == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_IO, "Could not list %s: %s", dir,
                local->message);
    return NULL;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    if (name[0] == '.')
      continue;
    g_autofree char *path = g_build_filename(dir, name, NULL);
    gboolean is_dir = g_file_test(path, G_FILE_TEST_IS_DIR);
    if (dirs ? is_dir : (!is_dir && is_image_name(name)))
      g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort(names, compare_names);
  return names;
}

/* Adds the images of dir to list with `label`; an empty folder is an error. */
static gboolean
add_folder(FileList *list, const char *dir, int32_t label, GError **error)
{
  g_autoptr(GPtrArray) files = list_entries(dir, FALSE, error);
  if (files == NULL)
    return FALSE;
  if (files->len == 0) {
    /* Often a train/<class>/ layout: say where the images must be. */
    g_autoptr(GPtrArray) subdirs = list_entries(dir, TRUE, NULL);
    if (subdirs != NULL && subdirs->len > 0)
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "The folder %s holds no images but sub-folders (%s, ...): each class "
                  "folder must hold its .png, .jpg or .jpeg images directly, as in "
                  "DATA/<class>/*.png or DATA/train/<class>/*.png; test images may go in an "
                  "optional DATA/test/<class>/ (else 20%% of each class is held out)", dir,
                  (const char *)subdirs->pdata[0]);
    else
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "The folder %s holds no images (expected .png, .jpg or .jpeg files)",
                  dir);
    return FALSE;
  }
  for (guint i = 0; i < files->len; i++)
    file_list_add(list, g_build_filename(dir, files->pdata[i], NULL), label);
  return TRUE;
}

/* Moves a seeded HOLDOUT_PERCENT of each class from train to test, keeping
 * both in file order. */
static void
hold_out(FileList *train, FileList *test, int n_classes)
{
  FileList kept;
  file_list_init(&kept);
  guint n = train->paths->len;
  g_autofree gboolean *to_test = g_new0(gboolean, n);
  for (int k = 0; k < n_classes; k++) {
    g_autoptr(GArray) members = g_array_new(FALSE, FALSE, sizeof(int32_t));
    for (guint i = 0; i < n; i++)
      if (g_array_index(train->labels, int32_t, i) == k)
        g_array_append_val(members, i);
    size_t m = members->len;
    size_t n_test = m * HOLDOUT_PERCENT / 100;
    if (n_test == 0 && m >= 2)
      n_test = 1;
    g_autofree int32_t *perm = g_new(int32_t, MAX(m, 1));
    ScRng rng;
    sc_rng_init(&rng, HOLDOUT_SEED, SC_RNG_SPLIT, 0, HOLDOUT_RNG_STEP, (uint32_t)k);
    sc_rng_permutation(&rng, perm, m);
    for (size_t j = 0; j < n_test; j++)
      to_test[g_array_index(members, int32_t, perm[j])] = TRUE;
  }
  for (guint i = 0; i < n; i++) {
    char *path = g_strdup(train->paths->pdata[i]);
    file_list_add(to_test[i] ? test : &kept, path, g_array_index(train->labels, int32_t, i));
  }
  file_list_clear(train);
  *train = kept;
}

/* Copies a pixbuf's RGB into (h, w, 3), dropping alpha. */
static void
pixbuf_to_hwc(GdkPixbuf *pb, guint8 *hwc)
{
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
  int nc = gdk_pixbuf_get_n_channels(pb), stride = gdk_pixbuf_get_rowstride(pb);
  const guint8 *px = gdk_pixbuf_read_pixels(pb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy(hwc + ((size_t)y * w + x) * 3, px + (size_t)y * stride + (size_t)x * nc, 3);
}

/* gdk-pixbuf decodes a JPEG cut short with only a warning, the missing rows
 * grey: require the end-of-image marker FF D9 after the last start-of-scan
 * FF DA (entropy-coded data never holds FF D9; an EXIF thumbnail's own
 * markers come before the main image's scan). */
static gboolean
check_jpeg_complete(const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = sc_data_map_file(path, error);
  if (bytes == NULL)
    return FALSE;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data(bytes, &len);
  if (len < 2 || data[0] != 0xFF || data[1] != 0xD8)
    return TRUE; /* not a JPEG: its own decoder judges it */
  gsize last_sos = 0, last_eoi = 0;
  for (gsize i = 2; i + 1 < len; i++)
    if (data[i] == 0xFF) {
      if (data[i + 1] == 0xDA)
        last_sos = i;
      else if (data[i + 1] == 0xD9)
        last_eoi = i;
    }
  if (last_sos > 0 && last_eoi > last_sos)
    return TRUE;
  g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
              "%s: JPEG data ends at byte offset %" G_GSIZE_FORMAT " without its end "
              "marker: expected FF D9 after the scan at byte offset %" G_GSIZE_FORMAT
              ", found none (truncated file?)" FIX_IMAGE,
              path, len, last_sos);
  return FALSE;
}

static GdkPixbuf *
load_image(const char *path, GError **error)
{
  if (!check_jpeg_complete(path, error))
    return NULL;
  g_autoptr(GError) local = NULL;
  GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, &local);
  if (pb == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT, "Could not read image %s: %s" FIX_IMAGE,
                path, local->message);
    return NULL;
  }
  if (gdk_pixbuf_get_colorspace(pb) != GDK_COLORSPACE_RGB
      || gdk_pixbuf_get_bits_per_sample(pb) != 8 || gdk_pixbuf_get_n_channels(pb) < 3) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s decodes to %d channels of %d bits, expected 8-bit RGB or RGBA" FIX_IMAGE,
                path, gdk_pixbuf_get_n_channels(pb), gdk_pixbuf_get_bits_per_sample(pb));
    g_object_unref(pb);
    return NULL;
  }
  return pb;
}

/* One image size (from the headers) and how many files have it. */
typedef struct {
  int w, h;
  size_t count;
  size_t first; /* index of its first file, in file order */
} SizeCount;

/* Whether size a beats b: more images, then the larger area, then the one met
 * first. */
static gboolean
size_wins(const SizeCount *a, const SizeCount *b)
{
  gint64 area_a = (gint64)a->w * a->h, area_b = (gint64)b->w * b->h;
  if (a->count != b->count)
    return a->count > b->count;
  if (area_a != area_b)
    return area_a > area_b;
  return a->first < b->first;
}

/* The data set's image size: the most common one among the headers of every
 * file of lists (n_lists), in file order. A file whose header cannot be read
 * is decoded to name the reason. */
static gboolean
choose_size(const FileList *const *lists, size_t n_lists, int *w, int *h, GError **error)
{
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(SizeCount));
  g_autoptr(GHashTable) index = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                      NULL);
  size_t at = 0;
  for (size_t l = 0; l < n_lists; l++)
    for (guint i = 0; i < lists[l]->paths->len; i++, at++) {
      const char *path = lists[l]->paths->pdata[i];
      int fw = 0, fh = 0;
      if (gdk_pixbuf_get_file_info(path, &fw, &fh) == NULL || fw <= 0 || fh <= 0) {
        g_autoptr(GdkPixbuf) pb = load_image(path, error);
        if (pb == NULL)
          return FALSE;
        fw = gdk_pixbuf_get_width(pb);
        fh = gdk_pixbuf_get_height(pb);
      }
      gint64 key = ((gint64)fw << 32) | (guint32)fh;
      gpointer slot;
      if (g_hash_table_lookup_extended(index, &key, NULL, &slot)) {
        g_array_index(sizes, SizeCount, GPOINTER_TO_UINT(slot)).count++;
      } else {
        SizeCount c = { .w = fw, .h = fh, .count = 1, .first = at };
        g_hash_table_insert(index, g_memdup2(&key, sizeof key), GUINT_TO_POINTER(sizes->len));
        g_array_append_val(sizes, c);
      }
    }
  g_assert(sizes->len > 0); /* list_files refuses a class without images */
  const SizeCount *best = &g_array_index(sizes, SizeCount, 0);
  for (guint i = 1; i < sizes->len; i++)
    if (size_wins(&g_array_index(sizes, SizeCount, i), best))
      best = &g_array_index(sizes, SizeCount, i);
  *w = best->w;
  *h = best->h;
  g_debug("%zu images, %u sizes; %dx%d (width x height) is the most common, %zu images",
          at, sizes->len, *w, *h, best->count);
  return TRUE;
}

/* Decodes every file of list into one split of h x w; images of another
 * size are scaled to it (bilinear) and counted in *n_scaled. */
static ScSplit *
decode_list(const char *split_name, const FileList *list, gboolean with_labels, int h,
            int w, size_t *n_scaled, GError **error)
{
  size_t n = list->paths->len;
  size_t image_bytes = (size_t)h * w * 3;
  g_autofree guint8 *pixels = g_try_malloc(MAX(n * image_bytes, 1)); /* (n, h, w, 3) */
  if (pixels == NULL) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_OUT_OF_MEMORY,
                "Out of memory for %zu images of %dx%d", n, w, h);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const char *path = list->paths->pdata[i];
    g_autoptr(GdkPixbuf) pb = load_image(path, error);
    if (pb == NULL)
      return NULL;
    if (gdk_pixbuf_get_width(pb) != w || gdk_pixbuf_get_height(pb) != h) {
      GdkPixbuf *scaled = gdk_pixbuf_scale_simple(pb, w, h, GDK_INTERP_BILINEAR);
      if (scaled == NULL) {
        g_set_error(error, SC_DATA_ERROR, SC_ERROR_OUT_OF_MEMORY,
                    "Out of memory scaling %s to %dx%d", path, w, h);
        return NULL;
      }
      g_object_unref(pb);
      pb = scaled;
      (*n_scaled)++;
    }
    pixbuf_to_hwc(pb, pixels + i * image_bytes);
  }
  int32_t *labels = with_labels ? g_memdup2(list->labels->data, n * sizeof(int32_t)) : NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&pixels), n * image_bytes);
  return sc_split_new_hwc(split_name, bytes, n, h, w, 3, labels);
}

/* Class sub-folders of test/, each one of the training classes. */
static gboolean
list_test(const char *test_dir, char **classes, FileList *test, GError **error)
{
  g_autoptr(GPtrArray) subdirs = list_entries(test_dir, TRUE, error);
  if (subdirs == NULL)
    return FALSE;
  for (guint i = 0; i < subdirs->len; i++) {
    const char *name = subdirs->pdata[i];
    int k = 0;
    while (classes[k] != NULL && strcmp(classes[k], name) != 0)
      k++;
    if (classes[k] == NULL) {
      g_autofree char *all = g_strjoinv(", ", classes);
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "%s/%s is not one of the training classes (%s)", test_dir, name, all);
      return FALSE;
    }
    g_autofree char *sub = g_build_filename(test_dir, name, NULL);
    if (!add_folder(test, sub, k, error))
      return FALSE;
  }
  if (test->paths->len == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "%s holds no class folders, expected some of the training classes", test_dir);
    return FALSE;
  }
  return TRUE;
}

/* Whether dir's only folders besides test/ and unlabeled/ are train/, as
 * in DATA/train/<class>/ + DATA/test/<class>/: the classes are then train/'s
 * sub-folders. */
static gboolean
has_train_folder(const char *dir, const GPtrArray *subdirs)
{
  gboolean train = FALSE;
  for (guint i = 0; i < subdirs->len; i++) {
    const char *name = subdirs->pdata[i];
    if (strcmp(name, TRAIN_DIR) == 0)
      train = TRUE;
    else if (strcmp(name, UNLABELED_DIR) != 0 && strcmp(name, TEST_DIR) != 0)
      return FALSE;
  }
  if (!train)
    return FALSE;
  g_autofree char *train_dir = g_build_filename(dir, TRAIN_DIR, NULL);
  g_autoptr(GPtrArray) classes = list_entries(train_dir, TRUE, NULL);
  return classes != NULL && classes->len > 0;
}

static gboolean
list_files(const char *dir, ScDataset *d, FileList *train, FileList *test,
           FileList *unlabeled, GError **error)
{
  g_autoptr(GPtrArray) subdirs = list_entries(dir, TRUE, error);
  if (subdirs == NULL)
    return FALSE;
  gboolean in_train = has_train_folder(dir, subdirs);
  g_autofree char *class_root = in_train ? g_build_filename(dir, TRAIN_DIR, NULL)
                                         : g_strdup(dir);
  if (in_train) {
    g_ptr_array_unref(subdirs);
    if ((subdirs = list_entries(class_root, TRUE, error)) == NULL)
      return FALSE;
  }
  GPtrArray *classes = g_ptr_array_new();
  for (guint i = 0; i < subdirs->len; i++) {
    const char *name = subdirs->pdata[i];
    /* At the top, test/ and unlabeled/ are not classes; under train/ all are. */
    if (in_train || (strcmp(name, UNLABELED_DIR) != 0 && strcmp(name, TEST_DIR) != 0))
      g_ptr_array_add(classes, g_strdup(name));
  }
  d->n_classes = classes->len;
  g_ptr_array_add(classes, NULL);
  d->class_names = (char **)g_ptr_array_free(classes, FALSE);
  if (d->n_classes == 0) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "The folder %s has no class sub-folders (one folder of images per class)",
                dir);
    return FALSE;
  }
  for (int k = 0; k < d->n_classes; k++) {
    g_autofree char *sub = g_build_filename(class_root, d->class_names[k], NULL);
    if (!add_folder(train, sub, k, error))
      return FALSE;
  }
  /* One class makes every prediction right: accuracy would say nothing. */
  if (d->n_classes < 2) {
    g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                "The folder %s has 1 class sub-folder (%s): expected at least 2 classes, "
                "one folder of images per class", dir, d->class_names[0]);
    return FALSE;
  }
  g_autofree char *test_dir = g_build_filename(dir, TEST_DIR, NULL);
  if (g_file_test(test_dir, G_FILE_TEST_IS_DIR)) {
    if (!list_test(test_dir, d->class_names, test, error))
      return FALSE;
  } else {
    hold_out(train, test, d->n_classes);
    if (test->paths->len == 0) {
      g_set_error(error, SC_DATA_ERROR, SC_ERROR_FORMAT,
                  "The folder %s has no test/ folder and no class with two or more images "
                  "to hold out for testing", dir);
      return FALSE;
    }
  }
  g_autofree char *unlabeled_dir = g_build_filename(dir, UNLABELED_DIR, NULL);
  return !g_file_test(unlabeled_dir, G_FILE_TEST_IS_DIR)
         || add_folder(unlabeled, unlabeled_dir, -1, error);
}

ScDataset *
sc_folder_open(const char *dir, GError **error)
{
  g_autoptr(ScDataset) d = sc_dataset_new(SC_FORMAT_FOLDER, dir);
  FileList train, test, unlabeled;
  file_list_init(&train);
  file_list_init(&test);
  file_list_init(&unlabeled);
  const FileList *all[] = { &train, &test, &unlabeled };
  int h = 0, w = 0;
  gboolean ok = list_files(dir, d, &train, &test, &unlabeled, error)
                && choose_size(all, G_N_ELEMENTS(all), &w, &h, error)
                && (d->train = decode_list("train", &train, TRUE, h, w, &d->n_scaled, error))
                && (d->test = decode_list("test", &test, TRUE, h, w, &d->n_scaled, error))
                && (unlabeled.paths->len == 0
                    || (d->unlabeled = decode_list("unlabeled", &unlabeled, FALSE, h, w,
                                                   &d->n_scaled, error)));
  file_list_clear(&train);
  file_list_clear(&test);
  file_list_clear(&unlabeled);
  return ok ? g_steal_pointer(&d) : NULL;
}
